//! The resource tree: real iLO 5 responses for the iLO profiles, a small plausible tree for
//! iDRAC and bmcweb, and the resources the session model needs (root, SessionService,
//! ResourceDirectory, app accounts). Bodies are serialized once, at start.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use serde_json::{json, Value};

use crate::config::Profile;

/// Tree lookups ignore case and trailing slashes (iLO links mix `systems` and `Systems`).
pub fn key(path: &str) -> String {
    path.trim_end_matches('/').to_ascii_lowercase()
}

pub struct Tree {
    pub resources: HashMap<String, (Value, Bytes)>,
}

impl Tree {
    pub fn build(profile: Profile, dir: Option<&Path>) -> anyhow::Result<Tree> {
        let mut docs = match dir {
            Some(dir) => load_dir(dir)?,
            None if profile.is_ilo() => ilo_files(),
            None => Vec::new(),
        };
        docs.extend(synthetic(profile));
        let mut resources = HashMap::new();
        for doc in docs {
            if let Some(id) = doc.get("@odata.id").and_then(Value::as_str) {
                resources.entry(key(id)).or_insert(doc);
            }
        }
        link_roles(&mut resources);
        if profile.is_ilo() {
            let dir = resource_directory(&resources);
            resources.insert(key("/redfish/v1/ResourceDirectory/"), dir);
        }
        let resources = resources
            .into_iter()
            .map(|(k, v)| {
                let bytes = Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
                (k, (v, bytes))
            })
            .collect();
        Ok(Tree { resources })
    }

    pub fn get(&self, path: &str) -> Option<&(Value, Bytes)> {
        self.resources.get(&key(path))
    }
}

/// Files that hold several variants keyed by name: take `default`/`Default`, else the first.
fn pick_variant(doc: Value) -> Value {
    if doc.get("@odata.id").is_some() {
        return doc;
    }
    let Value::Object(map) = doc else {
        return Value::Null;
    };
    let chosen = map
        .get("default")
        .or_else(|| map.get("Default"))
        .or_else(|| map.values().next())
        .cloned();
    chosen.unwrap_or(Value::Null)
}

fn ilo_files() -> Vec<Value> {
    crate::ilo_files::FILES
        .iter()
        .filter_map(|(_, text)| serde_json::from_str(text).ok())
        .map(pick_variant)
        .collect()
}

fn load_dir(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("reading tree {}: {e}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path)?;
            let doc: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            docs.push(pick_variant(doc));
        }
    }
    Ok(docs)
}

fn collection(id: &str, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({ "@odata.id": m })).collect();
    json!({
        "@odata.id": id,
        "@odata.type": format!("#{name}Collection.{name}Collection"),
        "Name": format!("{name} Collection"),
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

/// The resources every profile needs beyond the loaded files. Loaded files win where both
/// exist, except the service root, which is the profile's own.
fn synthetic(profile: Profile) -> Vec<Value> {
    let mut docs = match profile {
        Profile::Ilo5 | Profile::Ilo6 | Profile::Ilo7 => ilo_synthetic(profile),
        Profile::Idrac => crate::tree_dmtf::idrac(),
        Profile::Bmcweb => crate::tree_dmtf::bmcweb(),
    };
    let roles = [
        (
            "Administrator",
            vec![
                "Login",
                "ConfigureManager",
                "ConfigureUsers",
                "ConfigureSelf",
                "ConfigureComponents",
            ],
        ),
        (
            "Operator",
            vec!["Login", "ConfigureSelf", "ConfigureComponents"],
        ),
        ("ReadOnly", vec!["Login", "ConfigureSelf"]),
    ];
    let uris: Vec<String> = roles
        .iter()
        .map(|(id, _)| format!("{ROLES}/{id}"))
        .collect();
    for (id, privileges) in roles {
        docs.push(json!({
            "@odata.id": format!("{ROLES}/{id}"), "@odata.type": "#Role.v1_2_0.Role",
            "Id": id, "Name": id, "RoleId": id, "IsPredefined": true, "AssignedPrivileges": privileges
        }));
    }
    docs.push(collection(
        ROLES,
        "Role",
        &uris.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    docs
}

const ROLES: &str = "/redfish/v1/AccountService/Roles";

/// Every profile's AccountService links its Roles and each account names its role (the iLO 5
/// sample predates both).
fn link_roles(resources: &mut HashMap<String, Value>) {
    if let Some(service) = resources.get_mut(&key("/redfish/v1/AccountService")) {
        if service.get("Roles").is_none() {
            service["Roles"] = json!({ "@odata.id": ROLES });
        }
    }
    for doc in resources.values_mut() {
        let is_account = doc
            .get("@odata.type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("#ManagerAccount."));
        if is_account && doc.get("RoleId").is_none() {
            doc["RoleId"] = json!("Administrator");
        }
    }
}

fn ilo_synthetic(profile: Profile) -> Vec<Value> {
    let (manager_type, firmware) = match profile {
        Profile::Ilo5 => ("iLO 5", "iLO 5 v2.78"),
        Profile::Ilo6 => ("iLO 6", "iLO 6 v1.59"),
        _ => ("iLO 7", "iLO 7 v1.14"),
    };
    let mut root: Value = serde_json::from_str(
        crate::ilo_files::FILES
            .iter()
            .find(|(n, _)| *n == "root.json")
            .map(|(_, t)| *t)
            .unwrap_or("{}"),
    )
    .unwrap_or_else(|_| json!({}));
    root["@odata.id"] = json!("/redfish/v1/");
    root["Links"] = json!({ "Sessions": { "@odata.id": "/redfish/v1/SessionService/Sessions/" } });
    root["Oem"]["Hpe"]["Manager"][0]["ManagerType"] = json!(manager_type);
    root["Oem"]["Hpe"]["Manager"][0]["ManagerFirmwareVersion"] = json!(&firmware[7..]);
    root["Oem"]["Hpe"]["Links"]["ResourceDirectory"] =
        json!({ "@odata.id": "/redfish/v1/ResourceDirectory/" });
    root["Product"] = json!(format!(
        "ProLiant DL380 Gen{}",
        if profile == Profile::Ilo5 { 10 } else { 11 }
    ));
    root["Vendor"] = json!("HPE");
    let mut manager: Value = crate::ilo_files::FILES
        .iter()
        .find(|(n, _)| *n == "manager.json")
        .and_then(|(_, t)| serde_json::from_str(t).ok())
        .unwrap_or_else(|| json!({ "@odata.id": "/redfish/v1/Managers/1/" }));
    manager["FirmwareVersion"] = json!(firmware);
    let mut docs = vec![
        root,
        manager,
        collection(
            "/redfish/v1/Systems/",
            "ComputerSystem",
            &["/redfish/v1/Systems/1/"],
        ),
        collection(
            "/redfish/v1/Managers/",
            "Manager",
            &["/redfish/v1/Managers/1/"],
        ),
        collection(
            "/redfish/v1/Chassis/",
            "Chassis",
            &["/redfish/v1/Chassis/1/"],
        ),
    ];
    if profile == Profile::Ilo7 {
        docs.extend(crate::tree_dmtf::ilo7_app_accounts());
    }
    docs
}

/// NOTE(hpe): with `Oem.Hpe.Links.ResourceDirectory` ilorest logs in with a handful of
/// requests instead of crawling the whole tree.
fn resource_directory(resources: &HashMap<String, Value>) -> Value {
    let mut instances: Vec<Value> = resources
        .values()
        .filter_map(|v| {
            let id = v.get("@odata.id")?.as_str()?;
            let ty = v.get("@odata.type").and_then(Value::as_str).unwrap_or("");
            Some(json!({ "@odata.id": id, "@odata.type": ty, "ETag": v.get("@odata.etag").cloned().unwrap_or(json!("W/\"0\"")) }))
        })
        .collect();
    for (id, ty) in [
        (
            "/redfish/v1/SessionService/",
            "#SessionService.v1_0_0.SessionService",
        ),
        (
            "/redfish/v1/SessionService/Sessions/",
            "#SessionCollection.SessionCollection",
        ),
    ] {
        instances.push(json!({ "@odata.id": id, "@odata.type": ty, "ETag": "W/\"0\"" }));
    }
    instances.sort_by(|a, b| a["@odata.id"].as_str().cmp(&b["@odata.id"].as_str()));
    json!({
        "@odata.id": "/redfish/v1/ResourceDirectory/",
        "@odata.type": "#HpeiLOResourceDirectory.v2_0_0.HpeiLOResourceDirectory",
        "Id": "RESTful Type Directory",
        "Name": "RESTful Type Directory",
        "Instances": instances,
    })
}
