use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `bytes`: the content address of originals and attachments.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
