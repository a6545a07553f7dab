use sha2::{Digest, Sha256};

/// The stable `_id` of a resource: 32 hex characters of the SHA-256 of its
/// cloud, account id, region, kind and native id, each length-prefixed so
/// that no two different tuples hash the same input.
///
/// It never depends on the name, so renaming a resource keeps its `_id`, and
/// it is the same in every run, every sink and every cloudtab version.
pub fn resource_uid(cloud: &str, account_id: &str, region: &str, kind: &str, id: &str) -> String {
    Uid::new(cloud, account_id, region, kind, id)
        .as_str()
        .to_string()
}

/// A resource's `_id` (see [`resource_uid`]) held inline: making, copying
/// and dropping one allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uid([u8; 32]);

impl Uid {
    /// The `_id` of the resource of kind `kind` with native id `id`.
    pub fn new(cloud: &str, account_id: &str, region: &str, kind: &str, id: &str) -> Uid {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let parts = [cloud, account_id, region, kind, id];
        // The input is hashed in one call from one buffer (on the stack for
        // the usual few dozen bytes): hashing ten small pieces one by one
        // costs more than the hash itself.
        let len: usize = parts.iter().map(|p| p.len() + 8).sum();
        let mut stack = [0u8; 256];
        let mut heap = Vec::new();
        let buf: &mut [u8] = if len <= stack.len() {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        let mut at = 0;
        for part in parts {
            buf[at..at + 8].copy_from_slice(&(part.len() as u64).to_le_bytes());
            buf[at + 8..at + 8 + part.len()].copy_from_slice(part.as_bytes());
            at += 8 + part.len();
        }
        let digest = Sha256::digest(&buf[..]);
        let mut out = [0u8; 32];
        for (i, b) in digest[..16].iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 15) as usize];
        }
        Uid(out)
    }

    /// The 32 hex characters.
    pub fn as_str(&self) -> &str {
        debug_assert!(self.0.iter().all(u8::is_ascii_hexdigit));
        // SAFETY: the array is private and only `new` writes it, with bytes
        // of `HEX`, which are ASCII and so valid UTF-8. (Checking it again
        // on every read cost 1.7% of flattening and writing a run: every
        // edge reads two `_id`s.)
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl std::fmt::Debug for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_is_stable_and_separates_parts() {
        let a = resource_uid(
            "aws",
            "123456789012",
            "us-east-1",
            "aws_ec2_instance",
            "i-1",
        );
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(
            a,
            resource_uid(
                "aws",
                "123456789012",
                "us-east-1",
                "aws_ec2_instance",
                "i-1"
            )
        );
        // Inputs longer than the stack buffer hash the same way.
        let long = "x".repeat(300);
        let mut h = Sha256::new();
        for part in ["aws", "1", "r", "k", long.as_str()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let want: String = h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(resource_uid("aws", "1", "r", "k", &long), want);
        // Moving characters between parts must change the id.
        assert_ne!(
            resource_uid("aws", "1", "2", "k", "x"),
            resource_uid("aws", "12", "", "k", "x")
        );
        // Pinned: the id must never change between versions.
        assert_eq!(
            a, "e028b37466b1234f7f258fc0f1f72c2e",
            "the id algorithm must never change"
        );
    }
}
