"""Redis URLs: the redis+sentinel:// form is read exactly, and passwords never show."""

from __future__ import annotations

import pytest

from streamfn.redis_url import SentinelUrl, is_sentinel_url, parse_sentinel_url, redact
from streamfn.settings import Settings, SettingsError


def test_a_full_sentinel_url_is_read() -> None:
    url = (
        "rediss+sentinel://app:p%40ss@10.0.0.1:26380,sentinel-b,[::1]:5000/orders/3"
        "?sentinel_password=sp&sentinel_username=watch&ssl_cert_reqs=none"
    )
    assert parse_sentinel_url(url) == SentinelUrl(
        sentinels=(("10.0.0.1", 26380), ("sentinel-b", 26379), ("::1", 5000)),
        service="orders",
        db=3,
        username="app",
        password="p@ss",
        tls=True,
        sentinel_username="watch",
        sentinel_password="sp",
        ssl_cert_reqs="none",
    )


def test_defaults_no_login_database_zero_plain_tcp() -> None:
    target = parse_sentinel_url("redis+sentinel://h1,h2:1/mymaster")
    assert target.sentinels == (("h1", 26379), ("h2", 1))
    assert (target.service, target.db, target.tls) == ("mymaster", 0, False)
    assert target.node_kwargs() == {"db": 0}
    assert target.sentinel_kwargs() == {}
    assert parse_sentinel_url("redis+sentinel://h/m/").db == 0


def test_logins_go_where_they_belong() -> None:
    target = parse_sentinel_url(
        "rediss+sentinel://:pw@h/m/1?sentinel_password=sp&ssl_ca_certs=/ca.pem"
    )
    assert target.node_kwargs() == {
        "db": 1,
        "password": "pw",
        "ssl": True,
        "ssl_cert_reqs": "required",
        "ssl_ca_certs": "/ca.pem",
    }
    assert target.sentinel_kwargs() == {"password": "sp"}  # the Sentinels keep plain TCP
    tls_too = parse_sentinel_url("rediss+sentinel://h/m?sentinel_tls=yes")
    assert tls_too.sentinel_kwargs()["ssl"] is True


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+sentinel://h1", "names no service"),
        ("redis+sentinel://h1/", "names no service"),
        ("redis+sentinel:///m", "no Sentinel host"),
        ("redis+sentinel://h1,,h2/m", "no Sentinel host"),
        ("redis+sentinel://h1:port/m", "'port' of h1 is not a port"),
        ("redis+sentinel://h1:70000/m", "not a port"),
        ("redis+sentinel://h/m/zero", "database 'zero' is not a number"),
        ("redis+sentinel://h/m/0/x", "too many path parts"),
        ("redis+sentinel://h/my master", "service name"),
        ("redis+sentinel://h/m?sentinel_pasword=x", "unknown Sentinel URL option"),
        ("rediss+sentinel://h/m?ssl_cert_reqs=maybe", "ssl_cert_reqs='maybe'"),
        ("redis+sentinel://h/m?ssl_ca_certs=/ca.pem", "need rediss+sentinel://"),
        ("redis+sentinel://h/m?sentinel_tls=perhaps", "sentinel_tls='perhaps'"),
    ],
)
def test_a_malformed_sentinel_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        parse_sentinel_url(url)
    assert says in str(caught.value)


def test_settings_refuse_a_bad_sentinel_url_at_startup_without_its_password() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"STREAMFN_REDIS_URL": "redis+sentinel://:secret@h1/"})
    message = str(caught.value)
    assert "STREAMFN_REDIS_URL" in message and "names no service" in message
    assert "secret" not in message
    good = "redis+sentinel://h1:26379,h2:26379/mymaster/0"
    assert Settings.from_env({"STREAMFN_REDIS_URL": good}).redis_url == good


def test_which_urls_are_sentinel_urls() -> None:
    assert is_sentinel_url("redis+sentinel://h/m")
    assert is_sentinel_url("REDISS+SENTINEL://h/m")
    assert not is_sentinel_url("redis://h:6379/0")
    assert not is_sentinel_url("mymaster")


def test_redact_hides_only_the_passwords() -> None:
    assert redact("redis://u:pw@10.0.0.1:6379/0") == "redis://u:***@10.0.0.1:6379/0"
    assert redact("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redact("redis://h:1/0?password=pw&db=2") == "redis://h:1/0?password=***&db=2"
    assert (
        redact("redis+sentinel://app:pw@h1:26379,h2:26379/m/0?sentinel_password=sp")
        == "redis+sentinel://app:***@h1:26379,h2:26379/m/0?sentinel_password=***"
    )
    assert redact("rediss+sentinel://h1,h2/m") == "rediss+sentinel://h1,h2/m"
