"""``streamfn tokens new|check``: mint a gateway token, and check a tokens file.

``new`` prints the token's line for the tokens file on stdout (so ``>> tokens.toml`` appends
it) and the token itself on stderr, once: only its SHA-256 is kept anywhere.  ``check``
parses a file as the gateway would and lists its tokens.  Neither talks to Redis.
Exit codes: 0 done, 1 the file is invalid, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamfn.cli import edge
from streamfn.tokens import (
    NAME_RE,
    FunctionPattern,
    Role,
    TokensError,
    hash_token,
    mint_token,
    read_tokens_file,
    see_payloads_default,
    token_line,
)

EXIT_INVALID = 1


def _name(raw: str) -> str:
    if not NAME_RE.fullmatch(raw):
        raise argparse.ArgumentTypeError("1-64 characters of letters, digits, '_', '.', '-'")
    return raw


def _pattern(raw: str) -> str:
    try:
        return FunctionPattern.parse(raw).text
    except TokensError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn tokens",
        description="Gateway tokens (docs/auth.md). Exit code: 0 done, 1 invalid file, "
        "2 bad arguments.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser(
        "new",
        help="mint a token: its tokens-file line on stdout, the token on stderr",
        description="Mint a random token. Its line for the tokens file goes to stdout "
        "(`streamfn tokens new --role operator --name ci >> tokens.toml`), the token to "
        "stderr: it is shown once and stored nowhere.",
    )
    new.add_argument("--name", required=True, type=_name, help="who holds it, e.g. ci")
    new.add_argument(
        "--role",
        required=True,
        choices=[r.label for r in Role],
        help="viewer < invoker < operator < admin; each may do all a lower one may",
    )
    new.add_argument(
        "--pattern",
        type=_pattern,
        default="*",
        help="functions it may invoke and see the data of: globs, e.g. 'email*,sms_?' (default *)",
    )
    see = new.add_mutually_exclusive_group()
    see.add_argument(
        "--see-payloads",
        dest="see",
        action="store_true",
        default=None,
        help="show it payloads, results, errors and logs (default for every role but viewer)",
    )
    see.add_argument("--no-see-payloads", dest="see", action="store_false", help="redact them")
    check = actions.add_parser(
        "check",
        help="parse a tokens file as the gateway does and list its tokens",
        description="Check a tokens file (default STREAMFN_TOKENS_FILE) before the gateway "
        "re-reads it; lists each token's name, role, pattern and payload visibility.",
    )
    check.add_argument("file", nargs="?", type=Path, help="the file (default: the setting)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.action == "new":
        role = Role.parse(args.role)
        token = mint_token()
        print(token_line(args.name, role, hash_token(token), args.pattern, args.see))
        print(f"token for {args.name} (shown once, stored nowhere): {token}", file=sys.stderr)
        return edge.EXIT_OK
    return _check(args.file)


def _check(file: Path | None) -> int:
    if file is None:
        from streamfn.settings import Settings

        configured = Settings.from_env().tokens_file
        if not configured:
            raise edge.UsageError("give a FILE or set STREAMFN_TOKENS_FILE")
        file = Path(configured)
    try:
        tokens = read_tokens_file(file)
    except TokensError as exc:
        print(f"streamfn tokens check: {exc}", file=sys.stderr)
        return EXIT_INVALID
    for token in tokens.tokens:
        shown = "sees payloads" if token.see_payloads else "payloads redacted"
        default = "" if token.see_payloads != see_payloads_default(token.role) else " (default)"
        print(f"{token.name}\t{token.role.label}\t{token.pattern.text}\t{shown}{default}")
    print(f"{len(tokens)} tokens: valid", file=sys.stderr)
    return edge.EXIT_OK
