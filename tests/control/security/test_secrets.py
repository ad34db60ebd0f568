from control.security.secrets import digest, is_api_key, new_api_key, new_secret


def test_secrets_are_long_random_and_digested():
    assert len({new_secret() for _ in range(100)}) == 100
    assert len(new_secret()) >= 43
    key = new_api_key()
    assert is_api_key(key) and not is_api_key(new_secret().replace("pdm_", ""))
    assert digest(key) == digest(key) and len(digest(key)) == 64 and digest(key) != digest(key + "x")
