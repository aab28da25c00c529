//! The one binary encoding of log bodies and index records: bincode 2.0.1 over
//! serde, standard configuration (little-endian, varint integers), with an
//! explicit size limit so a hostile length can never make us allocate gigabytes.
//! Swapping the encoding means changing this module and the log format version.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest body the codec will decode (64 MiB).
pub const MAX_DECODE_BYTES: usize = 64 << 20;

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what}: {why}")]
pub struct DecodeError {
    pub what: &'static str,
    pub why: String,
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_DECODE_BYTES>()
}

/// Encodes a value. Encoding our own types cannot fail short of a bug; the
/// error is still passed up rather than unwrapped.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| e.to_string())
}

/// Decodes a value, requiring every byte to be consumed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| DecodeError { what, why: e.to_string() })?;
    if used != bytes.len() {
        return Err(DecodeError { what, why: format!("{} trailing bytes", bytes.len() - used) });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_trailing_bytes() {
        let v = (1u64, "x".to_string(), vec![1.5f64]);
        let mut bytes = encode(&v).unwrap();
        assert_eq!(decode::<(u64, String, Vec<f64>)>(&bytes, "test").unwrap(), v);
        bytes.push(0);
        assert!(decode::<(u64, String, Vec<f64>)>(&bytes, "test").is_err());
    }

    #[test]
    fn length_bomb_is_an_error_not_an_allocation() {
        // A Vec<u8> claiming u64::MAX elements, varint-encoded.
        let bomb = [253u8, 255, 255, 255, 255, 255, 255, 255, 255];
        let err = decode::<Vec<u8>>(&bomb, "bomb").unwrap_err();
        assert!(err.why.contains("limit") || err.why.contains("nexpected"), "{}", err.why);
        let bomb_str = [252u8, 255, 255, 255, 127];
        assert!(decode::<String>(&bomb_str, "bomb").is_err());
    }
}
