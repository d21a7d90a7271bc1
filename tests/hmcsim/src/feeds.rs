//! The captured HMC answers (tests/fixtures/hmc/, pypowervm's capture format) and the
//! resources served from them: feeds, their entries by UUID, `search/(Prop==Value)`, PCM.

/// One captured answer: body, `etag`, `content-type` and the caching headers it came with.
#[derive(Debug, Clone)]
pub struct Capture {
    pub body: String,
    pub etag: Option<String>,
    pub content_type: String,
    pub last_modified: Option<String>,
    pub cache_control: Option<String>,
}

/// The absolute bases the captures name (the capture HMC was 9.1.2.3; one feed came over
/// its plain-HTTP port). Answers name the simulator's own listener instead.
const CAPTURED_BASES: [&str; 2] = ["https://9.1.2.3:12443", "http://9.1.2.3:12080"];

fn section<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("{name}{{"))? + name.len() + 1;
    let end = start + text[start..].find("END OF SECTION}")?;
    Some(&text[start..end])
}

/// A header's value in the Python dict of the `HEADERS{...}` section.
fn header(headers: &str, name: &str) -> Option<String> {
    let key = format!("'{name}': '");
    let start = headers.find(&key)? + key.len();
    let end = start + headers[start..].find('\'')?;
    Some(headers[start..end].to_string())
}

/// Parses pypowervm's capture format (`INFO{`, `HEADERS{`, `BODY{` sections).
pub fn parse_capture(text: &str) -> Result<Capture, String> {
    let headers = section(text, "HEADERS").ok_or("no HEADERS section")?;
    let body = section(text, "BODY").ok_or("no BODY section")?;
    Ok(Capture {
        body: body.trim().to_string() + "\n",
        etag: header(headers, "etag"),
        content_type: header(headers, "content-type")
            .unwrap_or_else(|| "application/atom+xml".into()),
        last_modified: header(headers, "last-modified"),
        cache_control: header(headers, "cache-control"),
    })
}

pub struct Feeds {
    pub managed_system: Capture,
    pub lpar: Capture,
    pub ltm: Capture,
    pub phyp_pcm: Capture,
    pub lpar_pcm: Capture,
    pub pcm_pref: Capture,
}

impl Feeds {
    pub fn load() -> Feeds {
        let load = |name: &str, text: &str| {
            parse_capture(text).unwrap_or_else(|e| panic!("fixture {name} is broken: {e}"))
        };
        let mut phyp = load("phyp", include_str!("../../fixtures/hmc/phyp_pcm_data.txt"));
        let mut lpar_pcm = load(
            "lpar_pcm",
            include_str!("../../fixtures/hmc/lpar_pcm_data.txt"),
        );
        // NOTE: the PCM captures were written by hand with an Atom content type; the HMC
        // labels its PCM JSON as the feed's links do.
        for c in [&mut phyp, &mut lpar_pcm] {
            c.content_type = "application/vnd.ibm.powervm.pcm.json".into();
            c.etag = Some(java_hash(&c.body));
        }
        Feeds {
            managed_system: load(
                "managedsystem",
                include_str!("../../fixtures/hmc/managedsystem.txt"),
            ),
            lpar: load("lpar", include_str!("../../fixtures/hmc/lpar.txt")),
            ltm: load("ltm", include_str!("../../fixtures/hmc/ltm_feed.txt")),
            phyp_pcm: phyp,
            lpar_pcm,
            pcm_pref: load("pcm_pref", include_str!("../../fixtures/hmc/pcm_pref.txt")),
        }
    }
}

/// Java's `String.hashCode` in decimal: the HMC's ETags look like that (`449450179`,
/// `-215935973`); used for entries and searches, which have no captured ETag.
pub fn java_hash(s: &str) -> String {
    let mut h: i32 = 0;
    for unit in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    h.to_string()
}

/// The entries of an Atom feed, as text (entries do not nest).
pub fn entries(feed: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = feed;
    while let Some(start) = rest.find("<entry>") {
        let Some(len) = rest[start..].find("</entry>") else {
            break;
        };
        let end = start + len + "</entry>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// An entry's `<id>`.
pub fn entry_id(entry: &str) -> Option<&str> {
    let start = entry.find("<id>")? + 4;
    let end = start + entry[start..].find("</id>")?;
    Some(&entry[start..end])
}

/// The entry of `feed` whose id is `uuid` (case-insensitive), made a document of its own.
pub fn entry_doc(feed: &str, uuid: &str) -> Option<String> {
    let entry = entries(feed)
        .into_iter()
        .find(|e| entry_id(e).is_some_and(|id| id.eq_ignore_ascii_case(uuid)))?;
    Some(entry.replacen(
        "<entry>",
        "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:ns2=\"http://a9.com/-/spec/opensearch/1.1/\" xmlns:ns3=\"http://www.w3.org/1999/xhtml\">",
        1,
    ) + "\n")
}

/// Why a search expression was refused.
#[derive(Debug, PartialEq)]
pub struct BadSearch(pub String);

/// `(Prop==Value)`: the feed of the entries whose `<Prop ...>Value</Prop>` matches, or `None`
/// when none does (the HMC answers 204 then).
pub fn search(feed: &str, expr: &str) -> Result<Option<String>, BadSearch> {
    let inner = expr
        .strip_prefix('(')
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| {
            BadSearch(format!(
                "search expression `{expr}` is not (Property==Value)"
            ))
        })?;
    let (prop, value) = inner
        .split_once("==")
        .ok_or_else(|| BadSearch(format!("search expression `{expr}` has no ==")))?;
    if prop.is_empty() || !prop.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(BadSearch(format!("`{prop}` is not a property name")));
    }
    let found: Vec<&str> = entries(feed)
        .into_iter()
        .filter(|e| has_value(e, prop, value))
        .collect();
    if found.is_empty() {
        return Ok(None);
    }
    let all = entries(feed);
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        return Ok(None);
    };
    let head_end = feed.find(first).unwrap_or(0);
    let tail_start = feed
        .rfind(last)
        .map(|i| i + last.len())
        .unwrap_or(feed.len());
    let mut out = feed[..head_end].to_string();
    out.push_str(&found.join("\n    "));
    out.push_str(&feed[tail_start..]);
    Ok(Some(out))
}

fn has_value(entry: &str, prop: &str, value: &str) -> bool {
    let open = format!("<{prop}");
    let close = format!("</{prop}>");
    let mut rest = entry;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        if after.starts_with(['>', ' ']) {
            if let (Some(gt), Some(end)) = (after.find('>'), after.find(&close)) {
                if gt < end && after[gt + 1..end] == *value {
                    return true;
                }
            }
        }
        rest = after;
    }
    false
}

/// The captured bases replaced by `own` (`https://127.0.0.1:PORT`), as the HMC names itself.
pub fn rewrite(body: &str, own: &str) -> String {
    CAPTURED_BASES
        .iter()
        .fold(body.to_string(), |b, base| b.replace(base, own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capture_parses_with_its_etag() {
        let f = Feeds::load();
        assert_eq!(f.managed_system.etag.as_deref(), Some("449450179"));
        assert_eq!(f.lpar.etag.as_deref(), Some("959374938"));
        assert_eq!(f.pcm_pref.etag.as_deref(), Some("-215935973"));
        assert!(f.managed_system.body.starts_with("<feed "));
        assert!(f.managed_system.body.trim_end().ends_with("</feed>"));
        assert_eq!(entries(&f.managed_system.body).len(), 3);
        assert_eq!(entries(&f.lpar.body).len(), 21);
        assert!(f.phyp_pcm.body.trim_start().starts_with('{'));
    }

    #[test]
    fn search_finds_by_property_or_answers_none() {
        let f = Feeds::load();
        let hit = search(&f.managed_system.body, "(SystemName==HV4)")
            .unwrap()
            .unwrap();
        assert_eq!(entries(&hit).len(), 1);
        assert!(hit.starts_with("<feed ") && hit.trim_end().ends_with("</feed>"));
        assert_eq!(
            search(&f.managed_system.body, "(SystemName==nope)"),
            Ok(None)
        );
        assert_eq!(search(&f.managed_system.body, "(SystemName==HV)"), Ok(None));
        assert!(search(&f.lpar.body, "SystemName=HV4").is_err());
    }

    #[test]
    fn entries_are_served_alone_and_hosts_rewritten() {
        let f = Feeds::load();
        let e = entry_doc(&f.lpar.body, "089ffb20-5d19-4a8c-b22b-e6a6ab33e777");
        assert!(e.is_none());
        let e = entry_doc(&f.lpar.body, "089ffb20-5d19-4a8c-bb80-13650627d985").unwrap();
        assert!(e.starts_with("<entry xmlns=\"http://www.w3.org/2005/Atom\""));
        let own = rewrite(&f.lpar.body, "https://127.0.0.9:4");
        assert!(!own.contains("9.1.2.3"));
        assert!(own.contains("https://127.0.0.9:4/rest/api/uom/LogicalPartition"));
        assert_eq!(java_hash("abc"), "96354");
    }
}
