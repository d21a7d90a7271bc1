//! How a controller's certificate is trusted, as the config says it (`bmc.tls`, an `[[hmc]]`
//! table's `tls`): one list of choices and their names for both.

/// The `tls` choices, by the name the config uses.
pub const TLS_CHOICES: [(&str, TlsChoice); 4] = [
    ("pin", TlsChoice::Pin),
    ("tofu", TlsChoice::Tofu),
    ("ca", TlsChoice::Ca),
    ("insecure", TlsChoice::Insecure),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsChoice {
    Pin,
    Tofu,
    Ca,
    Insecure,
}
