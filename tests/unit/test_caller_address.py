import pytest

from studio.calls.guards import caller_address


@pytest.mark.parametrize(("forwarded", "trust", "hops", "expected"), [
    (None, True, 1, "10.0.0.9"),                                     # no header: the peer
    ("198.51.100.7", True, 1, "198.51.100.7"),                       # the proxy's own entry
    ("203.0.113.66, 198.51.100.7", True, 1, "198.51.100.7"),         # a forged entry on the left
    ("203.0.113.66, 198.51.100.7, 192.0.2.1", True, 2, "198.51.100.7"),  # two proxies
    ("198.51.100.7", True, 2, "10.0.0.9"),                           # fewer entries than proxies
    (" , 198.51.100.7 ,", True, 1, "198.51.100.7"),                  # empty entries ignored
    ("203.0.113.66", False, 1, "10.0.0.9"),                          # not trusted: the peer
])
def test_only_entries_written_by_trusted_proxies_count(forwarded, trust, hops, expected):
    assert caller_address("10.0.0.9", forwarded, trust_proxy=trust, hops=hops) == expected


def test_an_unknown_peer_is_one_caller():
    assert caller_address(None, None, trust_proxy=False, hops=1) == "unknown"
