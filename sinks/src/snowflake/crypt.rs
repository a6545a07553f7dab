//! The client-side encryption Snowflake's connectors apply to a file put
//! to an internal stage, so that the cloud storage behind the stage only
//! ever holds ciphertext.
//!
//! The `PUT` answer carries the stage's master key (`queryStageMasterKey`,
//! 16 or 32 bytes, base64). Each file gets a fresh random key of the same
//! length and a random 16-byte IV: the file is encrypted with AES-CBC and
//! PKCS#7 padding under the file key, and the file key with AES-ECB (also
//! padded) under the master key. The wrapped key, the IV and a material
//! descriptor (`{"queryId":…,"smkId":…,"keySize":…}`) travel as the
//! object's metadata; Snowflake unwraps the key when it loads the file.
//! `tests/e2e_snowflake.rs` decrypts what this module encrypts with the
//! Python connector's own `SnowflakeEncryptionUtil.decrypt_stream`.

use aes::cipher::{BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use base64::Engine;
use serde::Deserialize;
use sha2::Digest;

use crate::SinkError;

const BLOCK: usize = 16;

/// The `encryptionMaterial` of a `PUT` answer. Its `Debug` hides the key.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionMaterial {
    /// The stage's master key, base64.
    pub query_stage_master_key: String,
    /// The query the material belongs to.
    pub query_id: String,
    /// Which master key it is (a number in Snowflake's answers).
    pub smk_id: serde_json::Value,
}

impl std::fmt::Debug for EncryptionMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionMaterial")
            .field("query_id", &self.query_id)
            .field("smk_id", &self.smk_id)
            .finish_non_exhaustive()
    }
}

/// What a reader needs to decrypt a file: the object's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionMetadata {
    /// The file key wrapped with the master key, base64.
    pub key: String,
    /// The IV, base64.
    pub iv: String,
    /// The material descriptor (JSON).
    pub matdesc: String,
}

/// `base64(sha256(data))`: the `sfc-digest` metadata of a staged file.
pub fn digest(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

/// `n` random bytes from the system's generator.
pub(crate) fn random(n: usize) -> Result<Vec<u8>, SinkError> {
    use ring::rand::SecureRandom;
    let mut v = vec![0u8; n];
    ring::rand::SystemRandom::new()
        .fill(&mut v)
        .map_err(|_| SinkError::Other("the system's random number generator failed".into()))?;
    Ok(v)
}

/// `n` random bytes as lower-case hex (nonces, the lock holder's token).
pub(crate) fn random_hex(n: usize) -> Result<String, SinkError> {
    Ok(random(n)?.iter().map(|x| format!("{x:02x}")).collect())
}

/// Encrypts `data` for a stage whose material is `m`.
pub fn encrypt(
    m: &EncryptionMaterial,
    data: &[u8],
) -> Result<(Vec<u8>, EncryptionMetadata), SinkError> {
    let master = base64::engine::general_purpose::STANDARD
        .decode(m.query_stage_master_key.trim())
        .map_err(|_| {
            SinkError::Other("the stage's encryption key from Snowflake is not base64".into())
        })?;
    let iv = random(BLOCK)?;
    let file_key = random(master.len())?;
    let (body, wrapped) = match master.len() {
        16 => encrypt_with::<aes::Aes128>(&master, &file_key, &iv, data)?,
        24 => encrypt_with::<aes::Aes192>(&master, &file_key, &iv, data)?,
        32 => encrypt_with::<aes::Aes256>(&master, &file_key, &iv, data)?,
        n => {
            return Err(SinkError::Other(format!(
                "the stage's encryption key from Snowflake has {n} bytes; AES takes 16, 24 or 32"
            )))
        }
    };
    let smk = match &m.smk_id {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let matdesc = serde_json::json!({
        "queryId": m.query_id,
        "smkId": smk,
        "keySize": (master.len() * 8).to_string(),
    })
    .to_string();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Ok((
        body,
        EncryptionMetadata {
            key: b64(&wrapped),
            iv: b64(&iv),
            matdesc,
        },
    ))
}

/// The file under `file_key` (AES-CBC, PKCS#7) and `file_key` under
/// `master` (AES-ECB, PKCS#7), with the AES of the master key's size.
fn encrypt_with<C>(
    master: &[u8],
    file_key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), SinkError>
where
    C: aes::cipher::BlockCipher
        + BlockEncrypt
        + KeyInit
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
    cbc::Encryptor<C>: KeyIvInit,
{
    let bad = |_| SinkError::Other("the stage's encryption key has the wrong length".into());
    let body = cbc::Encryptor::<C>::new_from_slices(file_key, iv)
        .map_err(bad)?
        .encrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(data);
    let wrap = C::new_from_slice(master).map_err(bad)?;
    let pad = BLOCK - file_key.len() % BLOCK;
    let mut wrapped = file_key.to_vec();
    wrapped.extend(std::iter::repeat_n(pad as u8, pad));
    for block in wrapped.chunks_mut(BLOCK) {
        wrap.encrypt_block(aes::Block::from_mut_slice(block));
    }
    Ok((body, wrapped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::{BlockDecrypt, BlockDecryptMut};

    fn material(key_len: usize) -> EncryptionMaterial {
        EncryptionMaterial {
            query_stage_master_key: base64::engine::general_purpose::STANDARD
                .encode(vec![7u8; key_len]),
            query_id: "01b2-q".into(),
            smk_id: serde_json::json!(1234),
        }
    }

    #[test]
    fn round_trip_with_both_key_sizes() {
        for len in [16, 32] {
            let m = material(len);
            for data in [
                &b""[..],
                b"0123456789abcdef",
                b"PAR1 some parquet bytes PAR1",
            ] {
                let (body, meta) = encrypt(&m, data).unwrap();
                assert_eq!(body.len() % 16, 0);
                assert!(body.len() > data.len());
                let b = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
                let master = vec![7u8; len];
                let mut key = b(&meta.key);
                assert_eq!(key.len(), len + 16);
                for block in key.chunks_mut(16) {
                    let block = aes::Block::from_mut_slice(block);
                    if len == 16 {
                        aes::Aes128::new_from_slice(&master)
                            .unwrap()
                            .decrypt_block(block);
                    } else {
                        aes::Aes256::new_from_slice(&master)
                            .unwrap()
                            .decrypt_block(block);
                    }
                }
                key.truncate(len);
                let iv = b(&meta.iv);
                let plain = if len == 16 {
                    cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
                        .unwrap()
                        .decrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(&body)
                        .unwrap()
                } else {
                    cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
                        .unwrap()
                        .decrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(&body)
                        .unwrap()
                };
                assert_eq!(plain, data);
                let md: serde_json::Value = serde_json::from_str(&meta.matdesc).unwrap();
                assert_eq!(md["smkId"], "1234");
                assert_eq!(md["keySize"], (len * 8).to_string());
            }
        }
        assert!(!format!("{:?}", material(16)).contains("BwcH"));
    }
}
