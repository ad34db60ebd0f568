from control.security.passwords import hash_password, verify_password


def test_argon2id_hash_verifies_only_the_password():
    hashed = hash_password("s3cret password")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "s3cret password")
    assert not verify_password(hashed, "s3cret passworD")


def test_absent_or_broken_hash_never_verifies():
    assert not verify_password(None, "not a password of anyone")
    assert not verify_password(None, "")
    assert not verify_password("not-a-hash", "x")
