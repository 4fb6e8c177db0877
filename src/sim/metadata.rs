//! `$metadata`: CSDL generated from the same entity definitions the simulator serves.

use std::fmt::Write as _;

use super::dialect::Dialect;
use super::schema::{ENTITIES, ENUMS, NAMESPACE, PropType, entity};

/// The CSDL document, in the shape FNO.md §5 describes, listing exactly the dialect's bound actions.
pub fn csdl(dialect: Dialect) -> String {
    let mut x = String::new();
    x.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    x.push_str(r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>"#);
    let _ = write!(x, r#"<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">"#);
    for e in ENUMS {
        let _ = write!(x, r#"<EnumType Name="{}">"#, e.name);
        for (i, m) in e.members.iter().enumerate() {
            let _ = write!(x, r#"<Member Name="{}" Value="{i}"/>"#, escape(m));
        }
        x.push_str("</EnumType>");
    }
    for e in ENTITIES {
        let _ = write!(x, r#"<EntityType Name="{}"><Key>"#, e.type_name);
        for k in e.keys {
            let _ = write!(x, r#"<PropertyRef Name="{k}"/>"#);
        }
        x.push_str("</Key>");
        for p in e.props {
            let nullable =
                if e.keys.contains(&p.name) || !matches!(p.ty, PropType::String(_)) { "false" } else { "true" };
            let _ = write!(x, r#"<Property Name="{}" Type="{}" Nullable="{nullable}""#, p.name, p.ty.edm());
            match p.ty {
                PropType::String(max) if max > 0 => {
                    let _ = write!(x, r#" MaxLength="{max}""#);
                }
                PropType::Decimal => x.push_str(r#" Precision="32" Scale="6""#),
                _ => {}
            }
            x.push_str("/>");
        }
        x.push_str("</EntityType>");
    }
    for a in dialect.bound_actions() {
        if let Some(e) = entity(a.set) {
            let _ = write!(
                x,
                r#"<Action Name="{}" IsBound="true"><Parameter Name="{}" Type="{}"/>"#,
                a.name,
                e.type_name,
                e.qualified()
            );
            for p in a.params {
                let _ = write!(x, r#"<Parameter Name="{}" Type="{}"/>"#, p.name, p.ty.edm());
            }
            x.push_str(r#"<ReturnType Type="Edm.String"/></Action>"#);
        }
    }
    // The work item actions are bound to the collection: the instance id is a parameter (FNO.md §7).
    let w = dialect.work_items();
    for (name, params, returns) in [
        (w.validate, vec![w.work_item, w.user], "Edm.Boolean"),
        (w.complete, vec![w.work_item, w.user, w.outcome, w.comment], "Edm.String"),
    ] {
        let _ = write!(
            x,
            r#"<Action Name="{name}" IsBound="true"><Parameter Name="_bindingParameter" Type="Collection({NAMESPACE}.WorkflowWorkItem)"/>"#
        );
        for p in params {
            let _ = write!(x, r#"<Parameter Name="{p}" Type="Edm.String"/>"#);
        }
        let _ = write!(x, r#"<ReturnType Type="{returns}"/></Action>"#);
    }
    x.push_str(r#"<EntityContainer Name="Resources">"#);
    for e in ENTITIES {
        let _ = write!(x, r#"<EntitySet Name="{}" EntityType="{}"/>"#, e.set, e.qualified());
    }
    x.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    x
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csdl_is_well_formed_and_names_keys_enums_and_actions() {
        let xml = csdl(Dialect::Signoff);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let find = |tag: &str, name: &str| {
            doc.descendants().any(|n| n.tag_name().name() == tag && n.attribute("Name") == Some(name))
        };
        assert!(find("EntityContainer", "Resources"));
        assert!(find("EnumType", "NoYes"));
        assert!(find("Action", "signoffPost"));
        assert!(find("EntitySet", "VendorInvoiceHeaders"));
        let amount =
            doc.descendants().find(|n| n.attribute("Name") == Some("ImportedAmount")).and_then(|n| n.attribute("Type"));
        assert_eq!(amount, Some("Edm.Decimal"));
    }
}
