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
}

/// An entity type: its key and properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityType {
    pub name: String,
    pub keys: Vec<String>,
    pub properties: BTreeMap<String, Property>,
    pub navigation: Vec<String>,
}

/// A property and its type (`Edm.String`, `Edm.Decimal`, or an enum such as
/// `Microsoft.Dynamics.DataEntities.NoYes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub type_name: String,
    pub nullable: bool,
    pub max_length: Option<u32>,
    /// The enum's short name, when the type is an enum of this catalog.
    pub enum_type: Option<String>,
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

    /// The enum type of a property, when it has one.
    pub fn enum_of(&self, set: &str, property: &str) -> Option<&EnumType> {
        let name = self.entity_type_of(set)?.properties.get(property)?.enum_type.as_ref()?;
        self.enum_types.get(name)
    }

    /// One line: how much the catalog holds.
    pub fn summary(&self) -> String {
        format!(
            "{} entity sets, {} entity types, {} enum types, {} actions",
            self.entity_sets.len(),
            self.entity_types.len(),
            self.enum_types.len(),
            self.actions.len()
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
                        max_length: child.attribute("MaxLength").and_then(|m| m.parse().ok()),
                        enum_type: None,
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

    #[test]
    fn broken_xml_and_a_missing_schema_are_errors() {
        assert!(matches!(parse_csdl("<edmx:Edmx"), Err(CsdlError::Xml(_))));
        assert!(matches!(parse_csdl("<html><body>Sign in</body></html>"), Err(CsdlError::NoSchema)));
    }
}
