//! Small, plausible trees for the iDRAC and bmcweb profiles, and iLO 7's app accounts.

use serde_json::{json, Value};

fn root(vendor: &str, product: &str, expand: bool, oem: Value) -> Value {
    let mut v = json!({
        "@odata.id": "/redfish/v1",
        "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.17.0",
        "UUID": "4c4c4544-0042-3610-8057-b4c04f4d4433",
        "Vendor": vendor,
        "Product": product,
        "AccountService": { "@odata.id": "/redfish/v1/AccountService" },
        "Chassis": { "@odata.id": "/redfish/v1/Chassis" },
        "Managers": { "@odata.id": "/redfish/v1/Managers" },
        "SessionService": { "@odata.id": "/redfish/v1/SessionService" },
        "Systems": { "@odata.id": "/redfish/v1/Systems" },
        "Links": { "Sessions": { "@odata.id": "/redfish/v1/SessionService/Sessions" } },
    });
    if expand {
        v["ProtocolFeaturesSupported"] = json!({ "ExpandQuery": { "ExpandAll": true, "Levels": true, "Links": true, "NoLinks": true, "MaxLevels": 6 } });
    }
    if !oem.is_null() {
        v["Oem"] = oem;
    }
    v
}

fn members(id: &str, name: &str, items: &[&str]) -> Value {
    let m: Vec<Value> = items.iter().map(|i| json!({ "@odata.id": i })).collect();
    json!({ "@odata.id": id, "@odata.type": format!("#{name}Collection.{name}Collection"), "Name": format!("{name} Collection"), "Members@odata.count": m.len(), "Members": m })
}

fn system(id: &str, model: &str) -> Value {
    json!({
        "@odata.id": id, "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": id.rsplit('/').next(), "Name": "System", "Model": model, "PowerState": "On",
        "Status": { "State": "Enabled", "Health": "OK" }, "SerialNumber": "SIM0001"
    })
}

fn manager(id: &str, firmware: &str) -> Value {
    json!({
        "@odata.id": id, "@odata.type": "#Manager.v1_17_0.Manager", "Id": id.rsplit('/').next(),
        "Name": "Manager", "ManagerType": "BMC", "FirmwareVersion": firmware, "Status": { "State": "Enabled", "Health": "OK" }
    })
}

fn account_service() -> Value {
    json!({ "@odata.id": "/redfish/v1/AccountService", "@odata.type": "#AccountService.v1_12_0.AccountService",
            "Id": "AccountService", "Name": "Account Service", "ServiceEnabled": true,
            "Accounts": { "@odata.id": "/redfish/v1/AccountService/Accounts" }, "Roles": { "@odata.id": "/redfish/v1/AccountService/Roles" } })
}

pub fn idrac() -> Vec<Value> {
    vec![
        root(
            "Dell",
            "Integrated Dell Remote Access Controller",
            false,
            json!({ "Dell": { "@odata.type": "#DellServiceRoot.v1_0_0.DellServiceRoot", "ManagerMACAddress": "d0:94:66:00:00:01", "ServiceTag": "SIM0001" } }),
        ),
        members(
            "/redfish/v1/Systems",
            "ComputerSystem",
            &["/redfish/v1/Systems/System.Embedded.1"],
        ),
        system("/redfish/v1/Systems/System.Embedded.1", "PowerEdge R740"),
        members(
            "/redfish/v1/Managers",
            "Manager",
            &["/redfish/v1/Managers/iDRAC.Embedded.1"],
        ),
        manager("/redfish/v1/Managers/iDRAC.Embedded.1", "6.10.30.00"),
        members("/redfish/v1/Chassis", "Chassis", &[]),
        account_service(),
    ]
}

pub fn bmcweb() -> Vec<Value> {
    vec![
        root("OpenBMC", "OpenBMC", true, Value::Null),
        members(
            "/redfish/v1/Systems",
            "ComputerSystem",
            &["/redfish/v1/Systems/system"],
        ),
        system("/redfish/v1/Systems/system", "OpenBMC system"),
        members(
            "/redfish/v1/Managers",
            "Manager",
            &["/redfish/v1/Managers/bmc"],
        ),
        manager("/redfish/v1/Managers/bmc", "2.16.0"),
        members("/redfish/v1/Chassis", "Chassis", &[]),
        account_service(),
    ]
}

/// Host application accounts of iLO 7 (the names its "Host Application" sessions carry).
pub const ILO7_APP_ACCOUNTS: &[(&str, &str)] =
    &[("00b5b8c4-ilorest", "iLORest"), ("7d3c11a0-ams", "AMS")];

pub fn ilo7_app_accounts() -> Vec<Value> {
    let base = "/redfish/v1/AccountService/Oem/Hpe/AppAccounts";
    let mut docs: Vec<Value> = ILO7_APP_ACCOUNTS
        .iter()
        .map(|(id, name)| json!({
            "@odata.id": format!("{base}/{id}/"), "@odata.type": "#HpeiLOAppAccount.v1_0_0.HpeiLOAppAccount",
            "Id": id, "HostAppId": id, "HostAppName": name, "Description": "Host application account"
        }))
        .collect();
    let items: Vec<String> = ILO7_APP_ACCOUNTS
        .iter()
        .map(|(id, _)| format!("{base}/{id}/"))
        .collect();
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    docs.push(members(&format!("{base}/"), "HpeiLOAppAccount", &refs));
    docs
}
