// The /docs page: renders the gateway's /openapi.json with no third-party code.
// Every string from the document reaches the page through textContent, never as HTML.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];
const MAX_DEPTH = 6;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function resolve(doc, schema) {
  if (schema && typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
    let target = doc;
    for (const part of schema.$ref.slice(2).split("/")) target = target ? target[part] : undefined;
    return [schema.$ref.split("/").pop(), target || {}];
  }
  return [null, schema || {}];
}

// A compact, TypeScript-like text of a JSON Schema, with named components followed once.
function schemaText(doc, schema, depth, seen) {
  const [name, s] = resolve(doc, schema);
  if (name && (seen.has(name) || depth > MAX_DEPTH)) return name;
  const inner = new Set(seen);
  if (name) inner.add(name);
  const pad = "  ".repeat(depth + 1);
  const alts = s.anyOf || s.oneOf;
  if (alts) return alts.map((a) => schemaText(doc, a, depth, inner)).join(" | ");
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === "array") return schemaText(doc, s.items || {}, depth, inner) + "[]";
  if (s.type === "object" || s.properties) {
    const props = Object.entries(s.properties || {});
    if (!props.length) return "object";
    const required = new Set(s.required || []);
    const lines = props.map(([key, value]) => {
      const [, v] = resolve(doc, value);
      const note = v.description ? "  // " + v.description.replace(/\s+/g, " ") : "";
      return pad + key + (required.has(key) ? "" : "?") + ": " +
        schemaText(doc, value, depth + 1, inner) + note;
    });
    return (name ? name + " " : "") + "{\n" + lines.join("\n") + "\n" + "  ".repeat(depth) + "}";
  }
  if (Array.isArray(s.type)) return s.type.join(" | ");
  return s.type || name || "any";
}

function parametersTable(doc, params) {
  if (!params.length) return null;
  const rows = params.map((p) => {
    const [, s] = resolve(doc, p.schema);
    return el("tr", {},
      el("td", {}, el("code", { text: p.name })),
      el("td", { text: p.in }),
      el("td", { text: p.required ? "yes" : "no" }),
      el("td", {}, el("code", { text: schemaText(doc, p.schema, 0, new Set()) })),
      el("td", { text: p.description || s.description || "" }));
  });
  return el("table", {},
    el("thead", {}, el("tr", {}, ...["name", "in", "required", "type", "description"]
      .map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows));
}

function responsesTable(doc, responses) {
  const rows = Object.entries(responses || {}).map(([status, reply]) => {
    const [, r] = resolve(doc, reply);
    const content = r.content || {};
    const media = Object.keys(content)[0];
    const schema = media ? content[media].schema : null;
    return el("tr", {},
      el("td", { class: "status", text: status }),
      el("td", { text: r.description || "" }),
      el("td", {}, schema ? el("pre", { text: schemaText(doc, schema, 0, new Set()) }) : null));
  });
  return el("table", {},
    el("thead", {}, el("tr", {}, ...["status", "description", "body"]
      .map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows));
}

function tryForm(method, path, params, hasBody) {
  const inputs = params.filter((p) => p.in === "path" || p.in === "query").map((p) => {
    const input = el("input", { name: p.name, "data-in": p.in, placeholder: p.name });
    return el("label", {}, el("code", { text: p.name + (p.required ? " *" : "") }), input);
  });
  const body = hasBody ? el("textarea", { rows: "4", placeholder: "JSON body" }) : null;
  const out = el("pre", { hidden: "" });
  const form = el("form", { class: "try" }, ...inputs, body, el("button", { text: "Send" }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = path;
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input")) {
      if (!input.value) continue;
      if (input.dataset.in === "path") url = url.replace("{" + input.name + "}", encodeURIComponent(input.value));
      else query.append(input.name, input.value);
    }
    if ([...query].length) url += "?" + query;
    const headers = {};
    const token = document.getElementById("token").value;
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method: method.toUpperCase(), headers };
    if (body && body.value) { init.body = body.value; headers["Content-Type"] = "application/json"; }
    out.hidden = false;
    try {
      const response = await fetch(url, init);
      out.textContent = response.status + " " + response.statusText + "\n\n" + await response.text();
    } catch (error) {
      out.textContent = "request failed: " + error;
    }
  });
  return form;
}

function operation(doc, path, method, op, shared) {
  const params = [...(shared || []), ...(op.parameters || [])].map((p) => resolve(doc, p)[1]);
  const id = op.operationId || method + path;
  const body = el("div", { class: "body", hidden: "" });
  if (op.description) body.append(el("p", { text: op.description }));
  const table = parametersTable(doc, params);
  if (table) body.append(el("h3", { text: "Parameters" }), table);
  const request = op.requestBody ? resolve(doc, op.requestBody)[1] : null;
  if (request) {
    const media = Object.keys(request.content || {})[0];
    body.append(el("h3", { text: "Body" + (media ? " (" + media + ")" : "") }));
    if (request.description) body.append(el("p", { text: request.description }));
    if (media) body.append(el("pre", { text: schemaText(doc, request.content[media].schema, 0, new Set()) }));
  }
  body.append(el("h3", { text: "Responses" }), responsesTable(doc, op.responses));
  body.append(el("h3", { text: "Try it" }), tryForm(method, path, params, Boolean(request)));
  const title = el("h2", {},
    el("span", { class: "method " + method, text: method.toUpperCase() }),
    el("span", { class: "path", text: path }),
    el("span", { class: "summary", text: op.summary || "" }));
  title.addEventListener("click", () => { body.hidden = !body.hidden; });
  return el("section", { class: "op", id: id, "data-operation": id }, title, body);
}

async function main() {
  const summary = document.getElementById("summary");
  let doc;
  try {
    const response = await fetch("/openapi.json");
    doc = await response.json();
  } catch (error) {
    summary.textContent = "Could not load /openapi.json: " + error;
    return;
  }
  const info = doc.info || {};
  document.getElementById("title").textContent = (info.title || "API") + " " + (info.version || "");
  summary.textContent = info.description || "";
  const toc = document.getElementById("toc");
  const main = document.getElementById("operations");
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const section = operation(doc, path, method, item[method], item.parameters);
      main.append(section);
      toc.append(el("a", { href: "#" + section.id, text: method.toUpperCase() + " " + path }));
    }
  }
  const wanted = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  if (wanted) {  // a link to one operation opens it
    wanted.querySelector(".body").hidden = false;
    wanted.scrollIntoView();
  }
  document.body.dataset.rendered = String(main.children.length);
}

main();
