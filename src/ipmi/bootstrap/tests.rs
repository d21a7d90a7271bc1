use super::*;
use crate::ipmi::fake::{credentials_answer, fingerprint_answer, FakeIpmi};

/// The digest of the answer used below: SHA-256 of the DER of a test certificate.
const DIGEST: [u8; 32] = [
    0x3b, 0x1e, 0x9c, 0x55, 0x07, 0xa2, 0x6f, 0xd0, 0x41, 0x88, 0x2e, 0x10, 0xc7, 0x93, 0x5a,
    0x6b, //
    0xee, 0x02, 0x7d, 0x31, 0x94, 0xb8, 0x4c, 0x0f, 0x66, 0x29, 0xd3, 0x8a, 0x15, 0x70, 0xfa, 0x4e,
];

fn fingerprint_bytes() -> Vec<u8> {
    let mut v = vec![0x00, 0x52, 0x01];
    v.extend_from_slice(&DIGEST);
    v
}

/// The valid answer of EDK II's unit test (`CredentialBootstrapUnitTest.c`): 16 × 'A', 16 × 'B'.
fn edk2_valid_answer() -> Vec<u8> {
    let mut v = vec![0x00, 0x52];
    v.extend_from_slice(&[0x41; 16]);
    v.extend_from_slice(&[0x42; 16]);
    v
}

#[test]
fn a_fingerprint_answer_gives_the_digest() {
    let fp = parse_fingerprint(&fingerprint_bytes()).unwrap();
    assert_eq!(fp, Fingerprint::from_bytes(DIGEST));
    assert!(fp.to_string().starts_with("sha256:3B:1E:9C"), "{fp}");
}

#[test]
fn a_credentials_answer_gives_user_and_password() {
    let c = parse_credentials(&edk2_valid_answer()).unwrap();
    assert_eq!(
        (c.user.as_str(), c.password.expose()),
        ("AAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBB")
    );
    // Shorter fields: NUL-terminated and NUL-padded to 16 bytes.
    let bytes = [
        0x00, 0x52, b'b', b'o', b'o', b't', b's', b't', b'r', b'a', b'p', b'0', 0, 0, 0, 0, 0,
        0, //
        b'P', b'w', b'4', b'!', b'x', b'Y', b'z', b'9', 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let c = parse_credentials(&bytes).unwrap();
    assert_eq!(
        (c.user.as_str(), c.password.expose()),
        ("bootstrap0", "Pw4!xYz9")
    );
    assert_eq!(format!("{:?}", c.password), "***");
}

#[test]
fn openbmc_unpadded_fields_are_accepted_and_other_short_answers_refused() {
    let mut bytes = vec![0x00, 0x52];
    bytes.extend_from_slice(b"bootstrap0\0");
    bytes.extend_from_slice(b"aB3$dE6&gH9*jK1\0");
    let c = parse_credentials(&bytes).unwrap();
    assert_eq!(
        (c.user.as_str(), c.password.expose()),
        ("bootstrap0", "aB3$dE6&gH9*jK1")
    );
    // No NUL after the password, a third field, or a 16-character field with its NUL.
    for bad in [
        &b"bootstrap0\0secret"[..],
        b"a\0b\0c\0",
        b"0123456789abcdef\0pw\0",
    ] {
        let mut bytes = vec![0x00, 0x52];
        bytes.extend_from_slice(bad);
        let err = parse_credentials(&bytes).unwrap_err();
        assert!(matches!(err, BootstrapError::Length { .. }), "{err}");
    }
}

#[test]
fn completion_code_80h_means_disabled_for_both_commands() {
    let err = parse_credentials(&[0x80]).unwrap_err();
    assert_eq!(
        err,
        BootstrapError::Disabled {
            command: Command::Credentials
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("Get Bootstrap Account Credentials")
            && text.contains("80h")
            && text.contains("disabled"),
        "{text}"
    );
    // A BMC may still send the rest of the frame with a non-zero code.
    let mut full = edk2_valid_answer();
    full[0] = 0x80;
    assert_eq!(
        parse_credentials(&full).unwrap_err(),
        BootstrapError::Disabled {
            command: Command::Credentials
        }
    );
    let err = parse_fingerprint(&[0x80, 0x52]).unwrap_err();
    assert!(
        err.to_string()
            .contains("Get Manager Certificate Fingerprint"),
        "{err}"
    );
}

#[test]
fn other_completion_codes_are_named() {
    let err = parse_fingerprint(&[0xc1]).unwrap_err();
    assert_eq!(
        err,
        BootstrapError::NotImplemented {
            command: Command::Fingerprint
        }
    );
    assert!(err.to_string().contains("C1h"), "{err}");
    let err = parse_fingerprint(&[0xcb]).unwrap_err();
    assert!(
        err.to_string().contains("CBh") && err.to_string().contains("certificate number invalid"),
        "{err}"
    );
    let err = parse_credentials(&[0xc0, 0x52]).unwrap_err();
    assert!(
        err.to_string().contains("C0h") && err.to_string().contains("node busy"),
        "{err}"
    );
    let err = parse_credentials(&[0x7e]).unwrap_err();
    assert!(err.to_string().contains("7Eh"), "{err}");
}

#[test]
fn wrong_lengths_are_refused_naming_the_command_and_the_length() {
    assert!(matches!(
        parse_fingerprint(&[]),
        Err(BootstrapError::Length { got: 0, .. })
    ));
    assert!(matches!(
        parse_fingerprint(&[0x00, 0x52]),
        Err(BootstrapError::Length { got: 2, .. })
    ));
    let short = &fingerprint_bytes()[..34];
    let err = parse_fingerprint(short).unwrap_err();
    assert!(
        matches!(err, BootstrapError::Length { got: 34, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("has 34 bytes; expected 35"),
        "{err}"
    );
    let mut long = fingerprint_bytes();
    long.push(0);
    assert!(matches!(
        parse_fingerprint(&long),
        Err(BootstrapError::Length { got: 36, .. })
    ));
    // NOTE(ami): 50 bytes of base64 text after hash type 01h.
    let mut megarac = vec![0x00, 0x52, 0x01];
    megarac.extend_from_slice(&b"MIIDdzCCAl+gAwIBAgIUQ0V1c3RvbUNlcnRpZmljYXRlMDEwDQYJ"[..50]);
    assert!(matches!(
        parse_fingerprint(&megarac),
        Err(BootstrapError::Length { got: 53, .. })
    ));

    assert!(matches!(
        parse_credentials(&[]),
        Err(BootstrapError::Length { got: 0, .. })
    ));
    assert!(matches!(
        parse_credentials(&[0x00]),
        Err(BootstrapError::Length { got: 1, .. })
    ));
    let mut long = edk2_valid_answer();
    long.push(0x43);
    let err = parse_credentials(&long).unwrap_err();
    assert!(
        err.to_string().contains("has 35 bytes; expected 34"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("BBBB"),
        "no password in errors: {err}"
    );
    assert!(matches!(
        parse_credentials(&edk2_valid_answer()[..33]),
        Err(BootstrapError::Length { got: 33, .. })
    ));
}

#[test]
fn a_wrong_group_byte_is_refused() {
    let mut bytes = edk2_valid_answer();
    bytes[1] = 0x00;
    let err = parse_credentials(&bytes).unwrap_err();
    assert_eq!(
        err,
        BootstrapError::Group {
            command: Command::Credentials,
            got: 0x00
        }
    );
    assert!(
        err.to_string().contains("byte 2") && err.to_string().contains("00h, not 52h"),
        "{err}"
    );
    let mut bytes = fingerprint_bytes();
    bytes[1] = 0xdc;
    assert_eq!(
        parse_fingerprint(&bytes).unwrap_err(),
        BootstrapError::Group {
            command: Command::Fingerprint,
            got: 0xdc
        }
    );
}

#[test]
fn an_unknown_hash_algorithm_is_refused() {
    let mut bytes = fingerprint_bytes();
    bytes[2] = 0x02;
    let err = parse_fingerprint(&bytes).unwrap_err();
    assert_eq!(err, BootstrapError::HashType { got: 0x02 });
    assert!(
        err.to_string().contains("byte 3") && err.to_string().contains("02h"),
        "{err}"
    );
}

#[test]
fn non_utf8_and_all_nul_fields_are_refused_without_showing_them() {
    let mut bytes = edk2_valid_answer();
    bytes[2] = 0xff;
    let err = parse_credentials(&bytes).unwrap_err();
    assert_eq!(
        err,
        BootstrapError::NotUtf8 {
            field: "user name",
            bytes: "bytes 3-18"
        }
    );
    let mut bytes = edk2_valid_answer();
    bytes[20] = 0xc3;
    bytes[21] = 0x28;
    let err = parse_credentials(&bytes).unwrap_err();
    assert_eq!(
        err,
        BootstrapError::NotUtf8 {
            field: "password",
            bytes: "bytes 19-34"
        }
    );
    assert!(!format!("{err} {err:?}").contains("BBB"), "{err:?}");

    let mut zeros = vec![0x00, 0x52];
    zeros.extend_from_slice(&[0; 32]);
    assert_eq!(
        parse_credentials(&zeros).unwrap_err(),
        BootstrapError::EmptyField {
            field: "user name",
            bytes: "bytes 3-18"
        }
    );
    let mut bytes = edk2_valid_answer();
    bytes[18..].fill(0);
    assert_eq!(
        parse_credentials(&bytes).unwrap_err(),
        BootstrapError::EmptyField {
            field: "password",
            bytes: "bytes 19-34"
        }
    );
    let mut zeros = vec![0x00, 0x52, 0x01];
    zeros.extend_from_slice(&[0; 32]);
    assert!(
        parse_fingerprint(&zeros).is_ok(),
        "an all-zero digest parses; it simply never matches"
    );
}

#[test]
fn requests_carry_group_52h_certificate_1_and_keep_enabled_a5h() {
    let fake = FakeIpmi::bootstrapping(&DIGEST, "bootstrap0", "s3cret");
    assert_eq!(
        fetch_fingerprint(&fake).unwrap(),
        Fingerprint::from_bytes(DIGEST)
    );
    let c = fetch_credentials(&fake).unwrap();
    assert_eq!(
        (c.user.as_str(), c.password.expose()),
        ("bootstrap0", "s3cret")
    );
    let sent = fake.requests();
    assert_eq!(
        sent[0],
        IpmiRequest {
            netfn: 0x2c,
            cmd: 0x01,
            data: vec![0x52, 0x01]
        }
    );
    assert_eq!(
        sent[1],
        IpmiRequest {
            netfn: 0x2c,
            cmd: 0x02,
            data: vec![0x52, 0xa5]
        }
    );
    assert_eq!(credentials_answer("bootstrap0", "s3cret").len(), 34);
    assert_eq!(fingerprint_answer(&DIGEST), fingerprint_bytes());
}

#[test]
fn an_unscripted_fake_and_the_refresh_source_report_errors() {
    let fake = Arc::new(FakeIpmi::new());
    let err = fetch_credentials(fake.as_ref()).unwrap_err();
    assert!(
        matches!(
            err,
            BootstrapError::Ipmi(IpmiError::Unscripted {
                netfn: 0x2c,
                cmd: 0x02
            })
        ),
        "{err}"
    );
    fake.answer_once(CMD_GET_BOOTSTRAP_CREDENTIALS, vec![0x80]);
    let source = IpmiCredentials(fake.clone());
    assert!(source.refresh().unwrap_err().contains("80h"));
}

/// A small xorshift generator: the fuzz target's property on every host, without cargo-fuzz.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random bytes and mutations of valid answers: the parsers return, never panic, and what
/// they return fits the fields.
#[test]
fn random_and_mutated_answers_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = [
        edk2_valid_answer(),
        fingerprint_bytes(),
        vec![0x00, 0x52, b'a', 0, b'b', 0],
    ];
    for i in 0..200_000 {
        let bytes: Vec<u8> = if i % 2 == 0 {
            let len = (rng.next() % 48) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            let mut b = seeds[i % seeds.len()].clone();
            for _ in 0..=(rng.next() % 3) {
                let at = (rng.next() as usize) % b.len();
                b[at] = rng.next() as u8;
            }
            b.truncate(b.len() - (rng.next() % 2) as usize);
            b
        };
        check_answer(&bytes);
    }
}

/// The property the fuzz target checks too.
fn check_answer(bytes: &[u8]) {
    if let Ok(c) = parse_credentials(bytes) {
        assert!(
            !c.user.is_empty() && c.user.len() <= FIELD_LEN,
            "user {:?}",
            c.user
        );
        assert!(!c.password.is_empty() && c.password.expose().len() <= FIELD_LEN);
        assert!(bytes.len() <= 34);
    }
    if parse_fingerprint(bytes).is_ok() {
        assert_eq!(bytes.len(), 35);
    }
}
