//! The entities the simulator serves: one definition drives the data, the validation and `$metadata`.

/// The CSDL namespace of every F&O data entity and enum.
pub const NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";

/// A property's OData type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    String(u32),
    Decimal,
    Int32,
    Int64,
    Boolean,
    /// `Edm.DateTimeOffset`; F&O sends date-only fields at 12:00Z.
    DateTime,
    /// An enum type in the namespace, by name.
    Enum(&'static str),
}

impl PropType {
    /// The CSDL type name.
    pub fn edm(self) -> String {
        match self {
            PropType::String(_) => "Edm.String".into(),
            PropType::Decimal => "Edm.Decimal".into(),
            PropType::Int32 => "Edm.Int32".into(),
            PropType::Int64 => "Edm.Int64".into(),
            PropType::Boolean => "Edm.Boolean".into(),
            PropType::DateTime => "Edm.DateTimeOffset".into(),
            PropType::Enum(name) => format!("{NAMESPACE}.{name}"),
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, PropType::Decimal | PropType::Int32 | PropType::Int64)
    }
}

/// An enum type with its member names in value order.
#[derive(Debug)]
pub struct EnumDef {
    pub name: &'static str,
    pub members: &'static [&'static str],
}

/// All enum types any entity uses.
pub const ENUMS: &[EnumDef] = &[
    EnumDef { name: "NoYes", members: &["No", "Yes"] },
    EnumDef {
        name: "VendInvoiceRequestStatus",
        members: &["Draft", "InReview", "Approved", "Rejected", "ChangeRequested", "Completed", "Canceled"],
    },
    EnumDef { name: "VendInvoiceMatchStatus", members: &["NotPerformed", "Passed", "Failed"] },
    EnumDef {
        name: "LedgerJournalWFApprovalStatus",
        members: &[
            "None",
            "NotSubmitted",
            "Submitted",
            "PendingApproval",
            "Approved",
            "Rejected",
            "ChangeRequest",
            "PendingCancellation",
        ],
    },
    EnumDef { name: "LedgerJournalACType", members: &["Ledger", "Cust", "Vend", "Project", "FixedAssets", "Bank"] },
    EnumDef { name: "CurrentOperationsTax", members: &["Current", "Operations", "Tax"] },
    EnumDef { name: "CustVendorBlocked", members: &["No", "Invoice", "All", "Payment", "Requisition", "Never"] },
    EnumDef {
        name: "DimensionLedgerAccountType",
        members: &["ProfitAndLoss", "Revenue", "Expense", "BalanceSheet", "Asset", "Liability", "Equity", "Total"],
    },
    EnumDef { name: "DebCredProposal", members: &["None", "Debit", "Credit"] },
    EnumDef { name: "UserAccountType", members: &["ClaimsUser", "ADUser", "ADGroup", "Microsoft Account"] },
    EnumDef { name: "WorkflowWorkItemStatus", members: &["Pending", "Completed", "Delegated", "Canceled"] },
    // A user-role assignment's state and how it came about (FNO.md §7: only enabled assignments count).
    EnumDef { name: "RoleAssignmentStatus", members: &["Enabled", "Disabled", "Expired"] },
    EnumDef { name: "RoleAssignmentMode", members: &["Manual", "Automatic"] },
];

/// Look up an enum type by name.
pub fn enum_def(name: &str) -> Option<&'static EnumDef> {
    ENUMS.iter().find(|e| e.name == name)
}

/// One entity property.
#[derive(Debug)]
pub struct PropDef {
    pub name: &'static str,
    pub ty: PropType,
}

/// One entity set and its type.
#[derive(Debug)]
pub struct EntityDef {
    pub set: &'static str,
    pub type_name: &'static str,
    /// The AOT name, used in Infolog messages (`Write failed for table row of type '…'`).
    pub aot_name: &'static str,
    pub keys: &'static [&'static str],
    pub props: &'static [PropDef],
}

impl EntityDef {
    pub fn prop(&self, name: &str) -> Option<&PropDef> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Whether rows belong to a legal entity (have `dataAreaId`).
    pub fn company_scoped(&self) -> bool {
        self.keys.contains(&"dataAreaId")
    }

    /// The qualified type name (`Microsoft.Dynamics.DataEntities.VendorInvoiceHeader`).
    pub fn qualified(&self) -> String {
        format!("{NAMESPACE}.{}", self.type_name)
    }
}

macro_rules! props {
    ($($name:literal : $ty:expr),* $(,)?) => { &[$(PropDef { name: $name, ty: $ty }),*] };
}

use PropType::{Boolean, DateTime, Decimal, Enum, Int64, String as Str};

/// Every entity set the simulator serves.
pub const ENTITIES: &[EntityDef] = &[
    EntityDef {
        set: "VendorInvoiceHeaders",
        type_name: "VendorInvoiceHeader",
        aot_name: "VendorInvoiceHeaderEntity",
        keys: &["dataAreaId", "HeaderReference"],
        props: props! {
            "dataAreaId": Str(4), "HeaderReference": Str(20), "InvoiceNumber": Str(20), "InvoiceAccount": Str(20),
            "VendorAccount": Str(20), "VendorName": Str(100), "InvoiceDate": DateTime, "Date": DateTime,
            "DueDate": DateTime, "Currency": Str(3), "InvoiceDescription": Str(60), "ImportedAmount": Decimal, "ImportedSalesTax": Decimal,
            "IsApproved": Enum("NoYes"), "ApprovedBy": Str(20), "ApproverPersonnelNumber": Str(25),
            "VendorInvoiceReviewStatus": Enum("VendInvoiceRequestStatus"), "MatchStatus": Enum("VendInvoiceMatchStatus"),
            "IsOnHold": Enum("NoYes"), "PurchaseOrderNumber": Str(20), "DimensionDisplayValue": Str(500),
            "PostingProfile": Str(10), "TermsOfPayment": Str(10), "WorkflowComment": Str(1000), "RecId": Int64,
        },
    },
    EntityDef {
        set: "VendorInvoiceLines",
        type_name: "VendorInvoiceLine",
        aot_name: "VendorInvoiceLineEntity",
        keys: &["dataAreaId", "HeaderReference", "InvoiceLineNumber"],
        props: props! {
            "dataAreaId": Str(4), "HeaderReference": Str(20), "InvoiceLineNumber": Decimal, "Currency": Str(3),
            "ItemNumber": Str(20), "ProcurementCategoryName": Str(254), "LineDescription": Str(1000),
            "ReceiveNow": Decimal, "UnitPrice": Decimal, "NetAmount": Decimal, "MainAccountDisplayValue": Str(500),
            "DimensionDisplayValue": Str(500), "PurchaseOrder": Str(20), "PurchLineNumber": Decimal,
            "VendorInvoiceLineReviewStatus": Enum("VendInvoiceRequestStatus"), "RecId": Int64,
        },
    },
    EntityDef {
        set: "LedgerJournalHeaders",
        type_name: "LedgerJournalHeader",
        aot_name: "LedgerJournalHeaderEntity",
        keys: &["dataAreaId", "JournalBatchNumber"],
        props: props! {
            "dataAreaId": Str(4), "JournalBatchNumber": Str(10), "JournalName": Str(10), "Description": Str(60),
            "IsPosted": Enum("NoYes"), "PostingLayer": Enum("CurrentOperationsTax"), "JournalTotalDebit": Decimal,
            "JournalTotalCredit": Decimal, "AccountingCurrency": Str(3),
            "WorkflowApprovalStatus": Enum("LedgerJournalWFApprovalStatus"), "PostInBatch": Enum("NoYes"),
            "RecId": Int64,
        },
    },
    EntityDef {
        set: "LedgerJournalLines",
        type_name: "LedgerJournalLine",
        aot_name: "LedgerJournalLineEntity",
        keys: &["dataAreaId", "JournalBatchNumber", "LineNumber"],
        props: props! {
            "dataAreaId": Str(4), "JournalBatchNumber": Str(10), "LineNumber": Decimal,
            "AccountType": Enum("LedgerJournalACType"), "AccountDisplayValue": Str(500),
            "OffsetAccountType": Enum("LedgerJournalACType"), "OffsetAccountDisplayValue": Str(500),
            "DebitAmount": Decimal, "CreditAmount": Decimal, "CurrencyCode": Str(3), "TransDate": DateTime,
            "Voucher": Str(20), "Text": Str(60), "DefaultDimensionDisplayValue": Str(500),
            "ReverseEntry": Enum("NoYes"), "ReverseDate": DateTime, "RecId": Int64,
        },
    },
    EntityDef {
        set: "VendorsV2",
        type_name: "VendorV2",
        aot_name: "VendVendorV2Entity",
        keys: &["dataAreaId", "VendorAccountNumber"],
        props: props! {
            "dataAreaId": Str(4), "VendorAccountNumber": Str(20), "VendorOrganizationName": Str(100),
            "VendorGroupId": Str(10), "CurrencyCode": Str(3), "DefaultPaymentTermsName": Str(10),
            "OnHoldStatus": Enum("CustVendorBlocked"), "InvoiceVendorAccountNumber": Str(20),
            "SalesTaxGroupCode": Str(10), "BankAccountId": Str(10), "RecId": Int64,
        },
    },
    EntityDef {
        set: "SystemUsers",
        type_name: "SystemUser",
        aot_name: "SystemUserEntity",
        keys: &["UserID"],
        props: props! {
            "UserID": Str(20), "UserName": Str(80), "Alias": Str(80), "Email": Str(254), "Company": Str(4),
            "NetworkDomain": Str(255), "AccountType": Enum("UserAccountType"),
            // Edm.Boolean in real F&O (FNO.md §2, §7), not a NoYes enum.
            "Enabled": Boolean, "RecId": Int64,
        },
    },
    EntityDef {
        set: "MainAccounts",
        type_name: "MainAccount",
        aot_name: "MainAccountEntity",
        keys: &["ChartOfAccounts", "MainAccountId"],
        props: props! {
            "ChartOfAccounts": Str(60), "MainAccountId": Str(20), "Name": Str(60),
            "MainAccountType": Enum("DimensionLedgerAccountType"), "MainAccountCategory": Str(30),
            "IsSuspended": Enum("NoYes"), "DoNotAllowManualEntry": Enum("NoYes"),
            "DebitCreditRequirement": Enum("DebCredProposal"), "DefaultCurrency": Str(3), "RecId": Int64,
        },
    },
    EntityDef {
        set: "LegalEntities",
        type_name: "LegalEntity",
        aot_name: "OMLegalEntity",
        keys: &["LegalEntityId"],
        props: props! { "LegalEntityId": Str(4), "Name": Str(100), "AddressCountryRegionId": Str(10), "RecId": Int64, },
    },
    EntityDef {
        set: "SysAADClients",
        type_name: "SysAADClient",
        aot_name: "SysAADClientEntity",
        keys: &["AADClientId"],
        props: props! { "AADClientId": Str(40), "UserId": Str(20), "Name": Str(60), "RecId": Int64, },
    },
    // Records with plain generic keys, for the generic record actions (create, update, delete, execute an
    // operation): customer groups, and the customers that reference them by `CustomerGroupId`.
    EntityDef {
        set: "CustomerGroups",
        type_name: "CustomerGroup",
        aot_name: "CustCustomerGroupEntity",
        keys: &["dataAreaId", "CustomerGroupId"],
        props: props! {
            "dataAreaId": Str(4), "CustomerGroupId": Str(10), "Description": Str(60), "PaymentTermId": Str(10),
            "TaxGroupId": Str(10), "IsSalesTaxIncludedInPrice": Enum("NoYes"), "RecId": Int64,
        },
    },
    EntityDef {
        set: "CustomersV3",
        type_name: "CustomerV3",
        aot_name: "CustCustomerV3Entity",
        keys: &["dataAreaId", "CustomerAccount"],
        props: props! {
            "dataAreaId": Str(4), "CustomerAccount": Str(20), "OrganizationName": Str(100),
            "CustomerGroupId": Str(10), "CurrencyCode": Str(3), "CreditLimit": Decimal,
            "OnHoldStatus": Enum("CustVendorBlocked"), "PaymentTerms": Str(10), "SalesTaxGroup": Str(10),
            "RecId": Int64,
        },
    },
    // Security roles and who holds them (FNO.md §7). `SecurityUserRoles` is read (and DELETE revokes);
    // `SecurityUserRoleAssociations` is where a POST assigns: both show the same assignments (the
    // simulator keeps one table for both, see `state::storage_of`). `Company` scopes an assignment to
    // one legal entity (empty: every company); real F&O keeps organisation scope elsewhere (unverified),
    // so signoff's field name is configurable.
    EntityDef {
        set: "SecurityRoles",
        type_name: "SecurityRole",
        aot_name: "SecurityRoleEntity",
        keys: &["SecurityRoleIdentifier"],
        props: props! {
            "SecurityRoleIdentifier": Str(80), "SecurityRoleName": Str(80), "Description": Str(1000),
            "RecId": Int64,
        },
    },
    EntityDef {
        set: "SecurityUserRoles",
        type_name: "SecurityUserRole",
        aot_name: "SecurityUserRoleEntity",
        keys: &["UserId", "SecurityRoleIdentifier"],
        props: props! {
            "UserId": Str(20), "SecurityRoleIdentifier": Str(80), "SecurityRoleName": Str(80),
            "AssignmentStatus": Enum("RoleAssignmentStatus"), "AssignmentMode": Enum("RoleAssignmentMode"),
            "UserLicenseType": Str(30), "Company": Str(4), "RecId": Int64,
        },
    },
    EntityDef {
        set: "SecurityUserRoleAssociations",
        type_name: "SecurityUserRoleAssociation",
        aot_name: "SecurityUserRoleAssociationEntity",
        keys: &["UserId", "SecurityRoleIdentifier"],
        props: props! {
            "UserId": Str(20), "SecurityRoleIdentifier": Str(80), "SecurityRoleName": Str(80),
            "AssignmentStatus": Enum("RoleAssignmentStatus"), "AssignmentMode": Enum("RoleAssignmentMode"),
            "UserLicenseType": Str(30), "Company": Str(4), "RecId": Int64,
        },
    },
    // Workers (HCM). The field names are HcmWorkerEntity's and HcmEmploymentEntity's (microsoft/CDM,
    // operationsCommon HumanResources/HRM); the set names `Workers` and `Employments`, the facets and
    // the employment's key (worker, legal entity, start date: its non-nullable fields) are unverified. A
    // worker is global (no dataAreaId); the employment holds the worker's default financial dimensions,
    // whose Department segment is the worker's department in finance.
    EntityDef {
        set: "Workers",
        type_name: "Worker",
        aot_name: "HcmWorkerEntity",
        keys: &["PersonnelNumber"],
        props: props! {
            "PersonnelNumber": Str(25), "Name": Str(100), "FirstName": Str(25), "LastName": Str(25),
            "KnownAs": Str(25), "TitleId": Str(50), "OfficeLocationId": Str(20), "PrimaryContactEmail": Str(255),
            "OriginalHireDateTime": DateTime, "RecId": Int64,
        },
    },
    EntityDef {
        set: "Titles",
        type_name: "Title",
        aot_name: "HcmTitleEntity",
        keys: &["TitleId"],
        props: props! { "TitleId": Str(50), "RecId": Int64, },
    },
    EntityDef {
        set: "Employments",
        type_name: "Employment",
        aot_name: "HcmEmploymentEntity",
        keys: &["PersonnelNumber", "LegalEntityId", "EmploymentStartDate"],
        props: props! {
            "PersonnelNumber": Str(25), "LegalEntityId": Str(4), "EmploymentStartDate": DateTime,
            "EmploymentEndDate": DateTime, "DimensionDisplayValue": Str(500), "CalendarId": Str(10),
            "RecId": Int64,
        },
    },
    // FNO.md §7: the documented fields; the key's name is unverified (signoff's default, `InstanceId`).
    // `Outcome`, `Comment` and `CompletedBy` are where the simulator shows how an item was completed.
    EntityDef {
        set: "WorkflowWorkItems",
        type_name: "WorkflowWorkItem",
        aot_name: "WorkflowWorkItemEntity",
        keys: &["InstanceId"],
        props: props! {
            "InstanceId": Str(30), "Subject": Str(250), "Instructions": Str(1000), "ElementId": Str(60),
            "Status": Enum("WorkflowWorkItemStatus"), "UserId": Str(20), "DueDateTime": DateTime,
            "MenuItemName": Str(60), "Originator": Str(20), "RefRecId": Int64, "Outcome": Str(30),
            "Comment": Str(1000), "CompletedBy": Str(20), "RecId": Int64,
        },
    },
];

/// Look up an entity set by its (case-sensitive) name.
pub fn entity(set: &str) -> Option<&'static EntityDef> {
    ENTITIES.iter().find(|e| e.set == set)
}
