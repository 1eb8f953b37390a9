"""Key pairs: real RSA and ED25519 keys in PEM and PPK, AWS's fingerprints, import, describe, delete."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def _error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture(scope="module")
def ec2(make_client):
    return make_client("ec2", "eu-west-1")


def test_rsa_pem_is_a_real_key_with_the_aws_fingerprint(ec2, tmp_path):
    out = ec2.create_key_pair(KeyName="lab-rsa")
    assert out["KeyName"] == "lab-rsa" and out["KeyPairId"].startswith("key-") and len(out["KeyPairId"]) == 21
    pem = out["KeyMaterial"]
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert out["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.sha1(der).digest())
    path = tmp_path / "k.pem"
    path.write_text(pem + "\n")
    proc = subprocess.run(["openssl", "pkey", "-in", str(path), "-noout"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    described = ec2.describe_key_pairs(KeyNames=["lab-rsa"])["KeyPairs"][0]
    assert described["KeyFingerprint"] == out["KeyFingerprint"] and described["KeyType"] == "rsa"
    assert "PublicKey" not in described and "KeyMaterial" not in described


def test_ed25519_pem_is_openssh_format(ec2, tmp_path):
    out = ec2.create_key_pair(KeyName="lab-ed", KeyType="ed25519")
    assert out["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    key = serialization.load_ssh_private_key(out["KeyMaterial"].encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    path = tmp_path / "ed.pem"
    path.write_text(out["KeyMaterial"] + "\n")
    path.chmod(0o600)
    proc = subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # ssh-keygen prints SHA256:<base64 without padding>; AWS keeps the padding.
    assert proc.stdout.split()[1] == "SHA256:" + out["KeyFingerprint"].rstrip("=")
    described = ec2.describe_key_pairs(KeyNames=["lab-ed"], IncludePublicKey=True)["KeyPairs"][0]
    assert described["KeyType"] == "ed25519"
    assert described["PublicKey"].startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")


@pytest.mark.parametrize("key_type", ["rsa", "ed25519"])
def test_ppk_is_a_putty_v3_file(ec2, tmp_path, key_type):
    out = ec2.create_key_pair(KeyName=f"lab-ppk-{key_type}", KeyType=key_type, KeyFormat="ppk")
    text = out["KeyMaterial"]
    algorithm = "ssh-rsa" if key_type == "rsa" else "ssh-ed25519"
    assert text.startswith(f"PuTTY-User-Key-File-3: {algorithm}\nEncryption: none\nComment: lab-ppk-{key_type}\n")
    assert "\nPrivate-MAC: " in text
    if shutil.which("puttygen"):  # puttygen checks the MAC and the key itself
        path = tmp_path / "k.ppk"
        path.write_text(text + "\n")
        proc = subprocess.run(["puttygen", str(path), "-O", "public-openssh"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(algorithm + " ")


def test_import_openssh_and_pem_public_keys(ec2):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    out = ec2.import_key_pair(KeyName="imported-rsa", PublicKeyMaterial=openssh + b" me@laptop")
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert out["KeyFingerprint"] == ":".join(f"{b:02x}" for b in hashlib.md5(der).digest())
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    again = ec2.import_key_pair(KeyName="imported-rsa-pem", PublicKeyMaterial=pem)
    assert again["KeyFingerprint"] == out["KeyFingerprint"]

    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    ed_ssh = ed.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    ed_out = ec2.import_key_pair(KeyName="imported-ed", PublicKeyMaterial=ed_ssh,
                                 TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": "a"}]}])
    blob = base64.b64decode(ed_ssh.split()[1])
    assert ed_out["KeyFingerprint"] == base64.b64encode(hashlib.sha256(blob).digest()).decode()
    assert ed_out["Tags"] == [{"Key": "team", "Value": "a"}]
    described = ec2.describe_key_pairs(Filters=[{"Name": "tag:team", "Values": ["a"]}])["KeyPairs"]
    assert [k["KeyName"] for k in described] == ["imported-ed"]
    assert described[0]["KeyType"] == "ed25519"


def test_import_refuses_bad_material(ec2):
    for material in (b"not a key", b"ssh-rsa AAAAnotbase64!!",
                     ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
                         serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
                     rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key().public_bytes(
                         serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)):
        with pytest.raises(ClientError) as e:
            ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=material)
        assert _error(e) == ("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
    assert not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["bad"]}])["KeyPairs"]


def test_duplicates_not_found_and_idempotent_delete(ec2):
    ec2.create_key_pair(KeyName="dup")
    with pytest.raises(ClientError) as e:
        ec2.create_key_pair(KeyName="dup")
    assert _error(e) == ("InvalidKeyPair.Duplicate", "The keypair 'dup' already exists.")
    with pytest.raises(ClientError) as e:
        ec2.describe_key_pairs(KeyNames=["nope"])
    assert _error(e) == ("InvalidKeyPair.NotFound", "The key pair 'nope' does not exist")
    key_id = ec2.describe_key_pairs(KeyNames=["dup"])["KeyPairs"][0]["KeyPairId"]
    assert ec2.describe_key_pairs(KeyPairIds=[key_id])["KeyPairs"][0]["KeyName"] == "dup"
    deleted = ec2.delete_key_pair(KeyName="dup")
    assert deleted["Return"] is True and deleted["KeyPairId"] == key_id
    assert ec2.delete_key_pair(KeyName="dup")["Return"] is True  # gone already: still success
    with pytest.raises(ClientError) as e:
        ec2.describe_key_pairs(KeyPairIds=[key_id])
    assert _error(e)[0] == "InvalidKeyPair.NotFound"


def test_key_pairs_are_per_region(make_client):
    make_client("ec2", "eu-central-1").create_key_pair(KeyName="regional")
    with pytest.raises(ClientError):
        make_client("ec2", "eu-north-1").describe_key_pairs(KeyNames=["regional"])


def test_cli_create_key_pair_writes_a_usable_pem(aws_cli, tmp_path):
    code, out, err = aws_cli("ec2", "create-key-pair", "--key-name", "cli-key", "--query", "KeyMaterial",
                             "--output", "text")
    assert code == 0, err
    path = tmp_path / "cli-key.pem"
    path.write_text(out)
    proc = subprocess.run(["openssl", "pkey", "-in", str(path), "-noout"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_import_rfc4716_public_key(ec2):
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    blob = base64.b64decode(key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1])
    body = base64.b64encode(blob).decode()
    text = ("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"me@laptop\"\n"
            + "\n".join(body[i:i + 70] for i in range(0, len(body), 70)) + "\n---- END SSH2 PUBLIC KEY ----\n")
    out = ec2.import_key_pair(KeyName="rfc4716", PublicKeyMaterial=text.encode())
    assert out["KeyFingerprint"] == base64.b64encode(hashlib.sha256(blob).digest()).decode()
