//! `$metadata` (CSDL XML) parsed into a catalog of entity sets, keys, property types, enums and actions.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};
use serde::{Deserialize, Serialize};

/// What an F&O environment exposes, as far as signoff needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Entity types by short name (`VendorInvoiceHeader`).
    pub entity_types: BTreeMap<String, EntityType>,
    /// Entity set name (`VendorInvoiceHeaders`) → entity type short name.
    pub entity_sets: BTreeMap<String, String>,
    /// Enum types by short name (`NoYes`).
    pub enum_types: BTreeMap<String, EnumType>,
    pub actions: Vec<ActionDef>,
    /// JSON custom services verified by `signoff connector sync-metadata` (a `GET` describes each one;
    /// `$metadata` does not list them).
    #[serde(default)]
    pub services: Vec<ServiceDef>,
}

/// An entity type: its key and properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityType {
    pub name: String,
    pub keys: Vec<String>,
    pub properties: BTreeMap<String, Property>,
    pub navigation: Vec<String>,
}

/// A property, its type (`Edm.String`, `Edm.Decimal`, or an enum such as
/// `Microsoft.Dynamics.DataEntities.NoYes`) and its facets: what a value must be for F&O to accept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub type_name: String,
    pub nullable: bool,
    /// Counted in characters; `None` (or `MaxLength="max"`) is unbounded.
    pub max_length: Option<u32>,
    /// The enum's short name, when the type is an enum of this catalog.
    pub enum_type: Option<String>,
    /// Total significant digits (`Edm.Decimal`); `None` when not declared.
    #[serde(default)]
    pub precision: Option<u32>,
    /// Digits after the decimal point (`Edm.Decimal`); `None` when not declared or `variable`.
    #[serde(default)]
    pub scale: Option<u32>,
}

impl Property {
    /// A property of `type_name` with no facets: nullable, unbounded.
    pub fn of_type(type_name: &str) -> Property {
        Property {
            type_name: type_name.to_string(),
            nullable: true,
            max_length: None,
            enum_type: None,
            precision: None,
            scale: None,
        }
    }
}

/// A JSON custom service operation (`POST /api/services/<group>/<service>/<operation>`) as its describe
/// call (`GET` on the same path) reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDef {
    pub group: String,
    pub service: String,
    pub operation: String,
    /// Parameter name and type, in order.
    pub parameters: Vec<(String, String)>,
    pub return_type: Option<String>,
}

impl ServiceDef {
    /// `<group>/<service>/<operation>`, as `[operations.*] service` names it.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.group, self.service, self.operation)
    }
}

/// An enum type and its members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: String,
    pub members: Vec<EnumMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumMember {
    pub name: String,
    pub value: i64,
}

/// An action. For a bound action the binding parameter is left out of `parameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDef {
    pub name: String,
    /// The entity type short name it is bound to.
    pub bound_to: Option<String>,
    /// True when bound to the collection (`Collection(…)`), not an instance.
    pub collection_bound: bool,
    /// Parameter name and type, in order.
    pub parameters: Vec<(String, String)>,
    pub return_type: Option<String>,
}

/// Why a CSDL document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CsdlError {
    #[error("$metadata is not well-formed XML: {0}")]
    Xml(String),
    #[error("$metadata has no Schema element: is the environment URL right (it should answer /data/$metadata)?")]
    NoSchema,
}

/// Parse CSDL XML into a catalog.
pub fn parse_csdl(xml: &str) -> Result<Catalog, CsdlError> {
    let doc = Document::parse(xml).map_err(|e| CsdlError::Xml(e.to_string()))?;
    let schemas: Vec<Node> = doc.descendants().filter(|n| is(n, "Schema")).collect();
    if schemas.is_empty() {
        return Err(CsdlError::NoSchema);
    }
    let mut catalog = Catalog::default();
    for schema in &schemas {
        for node in schema.children().filter(Node::is_element) {
            match node.tag_name().name() {
                "EnumType" => {
                    let e = parse_enum(&node);
                    catalog.enum_types.insert(e.name.clone(), e);
                }
                "EntityType" => {
                    let t = parse_entity_type(&node);
                    catalog.entity_types.insert(t.name.clone(), t);
                }
                "Action" => catalog.actions.push(parse_action(&node)),
                "EntityContainer" => {
                    for set in node.children().filter(|n| is(n, "EntitySet")) {
                        if let (Some(name), Some(ty)) = (set.attribute("Name"), set.attribute("EntityType")) {
                            catalog.entity_sets.insert(name.to_string(), short(ty).to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Mark enum-typed properties now that every enum is known (enums may follow entity types).
    let enums: Vec<String> = catalog.enum_types.keys().cloned().collect();
    for ty in catalog.entity_types.values_mut() {
        for prop in ty.properties.values_mut() {
            let s = short(&prop.type_name);
            if !prop.type_name.starts_with("Edm.") && enums.iter().any(|e| e == s) {
                prop.enum_type = Some(s.to_string());
            }
        }
    }
    Ok(catalog)
}

/// The catalog as JSON, for the store to keep with a timestamp ([`catalog_from_json`] reads it back).
pub fn catalog_to_json(catalog: &Catalog) -> serde_json::Result<String> {
    serde_json::to_string(catalog)
}

/// A catalog stored with [`catalog_to_json`].
pub fn catalog_from_json(json: &str) -> serde_json::Result<Catalog> {
    serde_json::from_str(json)
}

impl Catalog {
    /// The entity type behind an entity set.
    pub fn entity_type_of(&self, set: &str) -> Option<&EntityType> {
        self.entity_sets.get(set).and_then(|t| self.entity_types.get(t))
    }

    /// Actions bound to an instance of the set's entity type.
    pub fn bound_actions(&self, set: &str) -> Vec<&ActionDef> {
        let Some(ty) = self.entity_sets.get(set) else { return Vec::new() };
        self.actions.iter().filter(|a| a.bound_to.as_deref() == Some(ty.as_str())).collect()
    }

    /// A property of an entity set's type.
    pub fn property(&self, set: &str, property: &str) -> Option<&Property> {
        self.entity_type_of(set)?.properties.get(property)
    }

    /// A verified custom service by its path (`Group/Service/operation`; surrounding `/` ignored).
    pub fn service(&self, path: &str) -> Option<&ServiceDef> {
        let wanted = path.trim_matches('/');
        self.services.iter().find(|s| s.path() == wanted)
    }

    /// The declared type of parameter `param` of the action `action` bound to the set's entity type, as
    /// a property (no facets: `$metadata` declares none on parameters).
    pub fn action_parameter(&self, set: &str, action: &str, param: &str) -> Option<Property> {
        let def = self.bound_actions(set).into_iter().find(|a| a.name == action)?;
        let (_, ty) = def.parameters.iter().find(|(name, _)| name == param)?;
        Some(self.parameter_property(ty))
    }

    /// The declared type of parameter `param` of a verified custom service, as a property: the AIF type
    /// names a describe call shows (`String`, `Date`, `Int`, `Real`) read as their Edm types.
    pub fn service_parameter(&self, path: &str, param: &str) -> Option<Property> {
        let (_, ty) = self.service(path)?.parameters.iter().find(|(name, _)| name == param)?;
        let edm = match ty.as_str() {
            "Date" => "Edm.Date",
            "Int" | "Int32" => "Edm.Int32",
            "Int64" => "Edm.Int64",
            "Real" | "Decimal" => "Edm.Decimal",
            "Boolean" | "NoYes" => "Edm.Boolean",
            t if t.starts_with("Edm.") => t,
            _ => "Edm.String",
        };
        Some(self.parameter_property(edm))
    }

    fn parameter_property(&self, type_name: &str) -> Property {
        let name = short(type_name);
        let enum_type =
            (!type_name.starts_with("Edm.") && self.enum_types.contains_key(name)).then(|| name.to_string());
        Property { enum_type, ..Property::of_type(type_name) }
    }

    /// The enum type of a property, when it has one.
    pub fn enum_of(&self, set: &str, property: &str) -> Option<&EnumType> {
        let name = self.entity_type_of(set)?.properties.get(property)?.enum_type.as_ref()?;
        self.enum_types.get(name)
    }

    /// One line: how much the catalog holds.
    pub fn summary(&self) -> String {
        format!(
            "{} entity sets, {} entity types, {} enum types, {} actions, {} custom services",
            self.entity_sets.len(),
            self.entity_types.len(),
            self.enum_types.len(),
            self.actions.len(),
            self.services.len()
        )
    }
}

fn is(node: &Node, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name
}

/// `Microsoft.Dynamics.DataEntities.NoYes` → `NoYes`; `Collection(X.Y)` → `Y`.
pub fn short(type_name: &str) -> &str {
    let inner = type_name.strip_prefix("Collection(").and_then(|t| t.strip_suffix(')')).unwrap_or(type_name);
    inner.rsplit('.').next().unwrap_or(inner)
}

fn parse_enum(node: &Node) -> EnumType {
    let mut next = 0;
    let members = node
        .children()
        .filter(|n| is(n, "Member"))
        .filter_map(|m| {
            let value = m.attribute("Value").and_then(|v| v.parse().ok()).unwrap_or(next);
            next = value + 1;
            Some(EnumMember { name: m.attribute("Name")?.to_string(), value })
        })
        .collect();
    EnumType { name: node.attribute("Name").unwrap_or("").to_string(), members }
}

fn parse_entity_type(node: &Node) -> EntityType {
    let mut ty = EntityType { name: node.attribute("Name").unwrap_or("").to_string(), ..Default::default() };
    for child in node.children().filter(Node::is_element) {
        match child.tag_name().name() {
            "Key" => {
                ty.keys = child
                    .children()
                    .filter(|n| is(n, "PropertyRef"))
                    .filter_map(|r| r.attribute("Name").map(String::from))
                    .collect();
            }
            "Property" => {
                if let Some(name) = child.attribute("Name") {
                    let prop = Property {
                        type_name: child.attribute("Type").unwrap_or("Edm.String").to_string(),
                        nullable: child.attribute("Nullable") != Some("false"),
                        max_length: facet(&child, "MaxLength"),
                        enum_type: None,
                        precision: facet(&child, "Precision"),
                        scale: facet(&child, "Scale"),
                    };
                    ty.properties.insert(name.to_string(), prop);
                }
            }
            "NavigationProperty" => ty.navigation.extend(child.attribute("Name").map(String::from)),
            _ => {}
        }
    }
    ty
}

/// A numeric facet; `max`, `variable` and `floating` mean "not bounded by a number" and give `None`.
fn facet(node: &Node, name: &str) -> Option<u32> {
    node.attribute(name).and_then(|v| v.trim().parse().ok())
}

fn parse_action(node: &Node) -> ActionDef {
    let is_bound = node.attribute("IsBound") == Some("true");
    let mut params: Vec<(String, String)> = node
        .children()
        .filter(|n| is(n, "Parameter"))
        .filter_map(|p| Some((p.attribute("Name")?.to_string(), p.attribute("Type").unwrap_or("").to_string())))
        .collect();
    let (bound_to, collection_bound) = if is_bound && !params.is_empty() {
        let (_, binding) = params.remove(0);
        (Some(short(&binding).to_string()), binding.starts_with("Collection("))
    } else {
        (None, false)
    };
    let return_type = node.children().find(|n| is(n, "ReturnType")).and_then(|r| r.attribute("Type")).map(String::from);
    ActionDef {
        name: node.attribute("Name").unwrap_or("").to_string(),
        bound_to,
        collection_bound,
        parameters: params,
        return_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_namespace_and_collection() {
        assert_eq!(short("Microsoft.Dynamics.DataEntities.NoYes"), "NoYes");
        assert_eq!(short("Collection(Microsoft.Dynamics.DataEntities.SystemUser)"), "SystemUser");
        assert_eq!(short("Edm.String"), "String");
    }

    const FACETS: &str = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
        <Schema Namespace="Microsoft.Dynamics.DataEntities" xmlns="http://docs.oasis-open.org/odata/ns/edm">
          <EnumType Name="NoYes"><Member Name="No" Value="0"/><Member Name="Yes" Value="1"/></EnumType>
          <EntityType Name="VendorV2"><Key><PropertyRef Name="dataAreaId"/><PropertyRef Name="VendorAccountNumber"/></Key>
            <Property Name="dataAreaId" Type="Edm.String" Nullable="false" MaxLength="4"/>
            <Property Name="VendorAccountNumber" Type="Edm.String" Nullable="false" MaxLength="20"/>
            <Property Name="BankAccountId" Type="Edm.String" MaxLength="10"/>
            <Property Name="Notes" Type="Edm.String" MaxLength="max"/>
            <Property Name="CreditLimit" Type="Edm.Decimal" Nullable="false" Precision="32" Scale="6"/>
            <Property Name="Rate" Type="Edm.Decimal" Precision="12" Scale="variable"/>
            <Property Name="IsOnHold" Type="Microsoft.Dynamics.DataEntities.NoYes" Nullable="false"/>
          </EntityType>
          <EntityType Name="SystemUser"><Key><PropertyRef Name="UserID"/></Key>
            <Property Name="UserID" Type="Edm.String" Nullable="false" MaxLength="20"/>
            <Property Name="Enabled" Type="Edm.Boolean" Nullable="false"/>
          </EntityType>
          <EntityContainer Name="Resources">
            <EntitySet Name="VendorsV2" EntityType="Microsoft.Dynamics.DataEntities.VendorV2"/>
            <EntitySet Name="SystemUsers" EntityType="Microsoft.Dynamics.DataEntities.SystemUser"/>
          </EntityContainer>
        </Schema></edmx:DataServices></edmx:Edmx>"#;

    #[test]
    fn property_types_nullability_and_facets_are_read_from_csdl() {
        let c = parse_csdl(FACETS).unwrap();
        let bank = c.property("VendorsV2", "BankAccountId").unwrap();
        assert_eq!((bank.type_name.as_str(), bank.nullable, bank.max_length), ("Edm.String", true, Some(10)));
        let limit = c.property("VendorsV2", "CreditLimit").unwrap();
        assert_eq!((limit.nullable, limit.precision, limit.scale), (false, Some(32), Some(6)));
        let rate = c.property("VendorsV2", "Rate").unwrap();
        assert_eq!((rate.precision, rate.scale), (Some(12), None), "Scale=\"variable\" is no fixed scale");
        assert_eq!(c.property("VendorsV2", "Notes").unwrap().max_length, None, "MaxLength=\"max\" is unbounded");
        let hold = c.property("VendorsV2", "IsOnHold").unwrap();
        assert_eq!((hold.enum_type.as_deref(), hold.nullable), (Some("NoYes"), false));
        let enabled = c.property("SystemUsers", "Enabled").unwrap();
        assert_eq!((enabled.type_name.as_str(), enabled.enum_type.as_deref()), ("Edm.Boolean", None));
    }

    #[test]
    fn a_catalog_stored_before_facets_and_services_still_loads() {
        let old = r#"{"entity_types":{"SystemUser":{"name":"SystemUser","keys":["UserID"],"properties":{
            "UserID":{"type_name":"Edm.String","nullable":false,"max_length":20,"enum_type":null}},"navigation":[]}},
            "entity_sets":{"SystemUsers":"SystemUser"},"enum_types":{},"actions":[]}"#;
        let c = catalog_from_json(old).unwrap();
        let user = c.property("SystemUsers", "UserID").unwrap();
        assert_eq!((user.max_length, user.precision, user.scale), (Some(20), None, None));
        assert!(c.services.is_empty());
    }

    #[test]
    fn services_are_found_by_their_path() {
        let mut c = Catalog::default();
        c.services.push(ServiceDef {
            group: "SignoffServices".into(),
            service: "SignoffJournalService".into(),
            operation: "post".into(),
            parameters: vec![("_dataAreaId".into(), "String".into())],
            return_type: Some("String".into()),
        });
        let json = catalog_to_json(&c).unwrap();
        let back = catalog_from_json(&json).unwrap();
        assert!(back.service("/SignoffServices/SignoffJournalService/post").is_some());
        assert!(back.service("SignoffServices/SignoffJournalService/reverse").is_none());
    }

    #[test]
    fn broken_xml_and_a_missing_schema_are_errors() {
        assert!(matches!(parse_csdl("<edmx:Edmx"), Err(CsdlError::Xml(_))));
        assert!(matches!(parse_csdl("<html><body>Sign in</body></html>"), Err(CsdlError::NoSchema)));
    }
}
