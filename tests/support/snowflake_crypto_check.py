"""The Python Snowflake connector's own code, as the reference for what
cloudtab's Snowflake client does:

    python snowflake_crypto_check.py decrypt MATERIAL_JSON METADATA_JSON IN OUT
        decrypts IN (a file cloudtab encrypted for a stage) into OUT with
        SnowflakeEncryptionUtil.decrypt_stream.
    python snowflake_crypto_check.py keys DIR PASSPHRASE
        writes an RSA key to DIR/key.p8 and DIR/key-encrypted.p8 (PKCS#8,
        the second encrypted with PASSPHRASE) and prints the fingerprint
        Snowflake shows for its public key (RSA_PUBLIC_KEY_FP).
    python snowflake_crypto_check.py jwt DIR TOKEN ACCOUNT USER
        verifies TOKEN with the public key of DIR/key.p8 and prints its
        claims.
"""

import base64
import hashlib
import json
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from snowflake.connector.constants import EncryptionMetadata
from snowflake.connector.encryption_util import SnowflakeEncryptionUtil
from snowflake.connector.storage_client import SnowflakeFileEncryptionMaterial


def decrypt(material_json, metadata_json, src, dst):
    m = json.loads(material_json)
    meta = json.loads(metadata_json)
    material = SnowflakeFileEncryptionMaterial(
        query_stage_master_key=m["queryStageMasterKey"],
        query_id=m["queryId"],
        smk_id=m["smkId"],
    )
    metadata = EncryptionMetadata(key=meta["key"], iv=meta["iv"], matdesc=meta["matdesc"])
    with open(src, "rb") as i, open(dst, "wb") as o:
        SnowflakeEncryptionUtil.decrypt_stream(metadata, material, i, o)


def keys(d, passphrase):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    plain = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    open(f"{d}/key.p8", "wb").write(plain)
    open(f"{d}/key-encrypted.p8", "wb").write(encrypted)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    print("SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode())


def verify(d, token, account, user):
    key = serialization.load_pem_private_key(open(f"{d}/key.p8", "rb").read(), None)
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"])
    print(json.dumps(claims))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "decrypt":
        decrypt(*sys.argv[2:6])
    elif cmd == "keys":
        keys(*sys.argv[2:4])
    elif cmd == "jwt":
        verify(*sys.argv[2:6])
