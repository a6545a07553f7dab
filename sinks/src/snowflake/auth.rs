//! How the Snowflake sink proves who it is: a key pair (a JWT signed with
//! the user's RSA key, the way service users log in), a password, or an
//! OAuth access token. Secrets are read when a session logs in and are
//! never logged, never part of an error and never written to a table.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::Digest;

use crate::SinkError;

/// How long a key-pair login's JWT is valid. It is used once, at login.
const JWT_LIFETIME_SECS: i64 = 120;

/// What the login request carries, secrets included; its `Debug` shows
/// the kind only.
pub enum Credentials {
    /// `AUTHENTICATOR = SNOWFLAKE_JWT`, with the signing key.
    KeyPair(Box<ring::signature::RsaKeyPair>, String),
    /// The user's password.
    Password(String),
    /// `AUTHENTICATOR = OAUTH`, with the access token.
    OAuth(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::KeyPair(..) => "KeyPair(..)",
            Credentials::Password(_) => "Password(..)",
            Credentials::OAuth(_) => "OAuth(..)",
        })
    }
}

/// Where the secret comes from, as configured.
#[derive(Debug, Clone)]
pub enum Secret {
    /// A PEM PKCS#8 private key, with the environment variable holding its
    /// passphrase when it is encrypted.
    KeyFile(PathBuf, String),
    /// A file whose content is the password.
    PasswordFile(PathBuf),
    /// An environment variable holding the password.
    PasswordEnv(String),
    /// A file whose content is an OAuth access token.
    OAuthFile(PathBuf),
}

fn read_secret_file(path: &Path, what: &str) -> Result<String, SinkError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SinkError::Config(format!(
            "cannot read the {what} file `{}`: {e}",
            path.display()
        ))
    })?;
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    if text.is_empty() {
        return Err(SinkError::Config(format!(
            "the {what} file `{}` is empty",
            path.display()
        )));
    }
    Ok(text)
}

impl Secret {
    /// Reads the secret. `user_key` names the config key in errors.
    pub fn load(&self) -> Result<Credentials, SinkError> {
        match self {
            Secret::PasswordFile(p) => {
                Ok(Credentials::Password(read_secret_file(p, "password")?))
            }
            Secret::OAuthFile(p) => Ok(Credentials::OAuth(read_secret_file(p, "OAuth token")?)),
            Secret::PasswordEnv(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Credentials::Password(v)),
                _ => Err(SinkError::Config(format!(
                    "no Snowflake credentials: set `private_key_file` (key-pair login), `password_file`, `oauth_token_file`, or the environment variable `{var}` (`password_env`)"
                ))),
            },
            Secret::KeyFile(p, passphrase_env) => {
                let pem = std::fs::read_to_string(p).map_err(|e| {
                    SinkError::Config(format!(
                        "private_key_file: cannot read `{}`: {e}",
                        p.display()
                    ))
                })?;
                let passphrase = std::env::var(passphrase_env).ok().filter(|v| !v.is_empty());
                let key = load_key(&pem, passphrase.as_deref()).map_err(|why| {
                    SinkError::Config(format!("private_key_file `{}`: {why}", p.display()))
                })?;
                let fingerprint = public_key_fingerprint(&key);
                Ok(Credentials::KeyPair(Box::new(key), fingerprint))
            }
        }
    }
}

/// The RSA key of a PEM file: PKCS#8, encrypted (`ENCRYPTED PRIVATE
/// KEY`, with `passphrase`) or not (`PRIVATE KEY`).
pub fn load_key(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<ring::signature::RsaKeyPair, String> {
    use pkcs8::der::pem::PemLabel;
    let (label, doc) = pkcs8::SecretDocument::from_pem(pem.trim()).map_err(|_| {
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            "the key is in PKCS#1 form (`BEGIN RSA PRIVATE KEY`); convert it with `openssl pkcs8 -topk8 -in KEY -out key.p8` (add -nocrypt for no passphrase)".to_string()
        } else {
            "not a PEM private key (expected `BEGIN PRIVATE KEY` or `BEGIN ENCRYPTED PRIVATE KEY`)".to_string()
        }
    })?;
    let der = if label == pkcs8::EncryptedPrivateKeyInfo::PEM_LABEL {
        let Some(pass) = passphrase else {
            return Err("the key is encrypted; put its passphrase in the environment variable `private_key_passphrase_env` names".into());
        };
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|e| format!("cannot parse the encrypted key: {e}"))?;
        info.decrypt(pass)
            .map_err(|_| "cannot decrypt the key: wrong passphrase, or an encryption scheme other than PBES2 (AES or 3DES) and PBES1".to_string())?
    } else if label == pkcs8::PrivateKeyInfo::PEM_LABEL {
        doc
    } else {
        return Err(format!("PEM label `{label}` is not a PKCS#8 private key"));
    };
    ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
        .map_err(|e| format!("not a usable RSA key ({e}); Snowflake key-pair login takes RSA keys of 2048 bits or more"))
}

/// `SHA256:` and the base64 SHA-256 of the public key's DER
/// `SubjectPublicKeyInfo`: what `DESC USER` shows as
/// `RSA_PUBLIC_KEY_FP`, and what the JWT's issuer names.
pub fn public_key_fingerprint(key: &ring::signature::RsaKeyPair) -> String {
    use ring::signature::KeyPair;
    let pkcs1 = key.public_key().as_ref();
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0, pkcs1 } }
    const ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let mut body = ALGORITHM.to_vec();
    body.extend(der_header(0x03, bits.len()));
    body.extend(bits);
    let mut spki = der_header(0x30, body.len());
    spki.extend(body);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&spki))
    )
}

fn der_header(tag: u8, len: usize) -> Vec<u8> {
    let mut v = vec![tag];
    if len < 0x80 {
        v.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend(bytes);
    }
    v
}

/// The account part of the JWT's claims: upper case, without region,
/// cloud or `privatelink` suffix (`xy12345.us-east-2.aws` → `XY12345`);
/// an `org-account` identifier stays whole.
pub fn jwt_account(account: &str) -> String {
    account.split('.').next().unwrap_or(account).to_uppercase()
}

/// The key-pair login's JWT for `account` and `user`, issued at `now`.
pub fn jwt(
    key: &ring::signature::RsaKeyPair,
    fingerprint: &str,
    account: &str,
    user: &str,
    now: i64,
) -> Result<String, SinkError> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let subject = format!("{}.{}", jwt_account(account), user.to_uppercase());
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": format!("{subject}.{fingerprint}"),
        "sub": subject,
        "iat": now,
        "exp": now + JWT_LIFETIME_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| SinkError::Other("failed to sign the key-pair login's JWT".into()))?;
    Ok(format!("{signing_input}.{}", b64(&sig)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_der_lengths() {
        assert_eq!(jwt_account("xy12345.us-east-2.aws"), "XY12345");
        assert_eq!(jwt_account("myorg-acct1"), "MYORG-ACCT1");
        assert_eq!(der_header(0x30, 5), vec![0x30, 5]);
        assert_eq!(der_header(0x30, 270), vec![0x30, 0x82, 0x01, 0x0e]);
        assert_eq!(der_header(0x03, 128), vec![0x03, 0x81, 0x80]);
    }

    #[test]
    fn a_pkcs1_key_is_refused_with_the_command_that_converts_it() {
        let e = load_key(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
            None,
        )
        .err()
        .unwrap();
        assert!(e.contains("openssl pkcs8 -topk8"), "{e}");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = Credentials::Password("hunter2".into());
        assert_eq!(format!("{c:?}"), "Password(..)");
    }
}
