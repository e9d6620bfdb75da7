"""Platforms, roles, teams, people, tags, classifications and the glossary of the demo.

Pure data, read by `demo.generator`.
"""

from __future__ import annotations

EMAIL_DOMAIN = "acme-outfitters.com"

PLATFORMS: tuple[tuple[str, str, str], ...] = (
    ("postgres", "PostgreSQL", "Open-source relational database running the OLTP systems."),
    ("snowflake", "Snowflake", "Cloud data warehouse hosting the analytics and lab databases."),
    ("bigquery", "Google BigQuery", "Serverless warehouse used by the marketing team."),
    ("airflow", "Apache Airflow", "Workflow orchestrator running ingestion and ML DAGs."),
    ("dbt", "dbt Cloud", "SQL transformation framework building staging models and marts."),
    ("looker", "Looker", "BI platform for governed self-service dashboards."),
    ("tableau", "Tableau", "BI platform used by finance, operations and people teams."),
    ("mlflow", "MLflow", "Experiment tracking and model registry for machine learning."),
)

PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("read", "Read", "See assets, their metadata, lineage and search results."),
    ("write", "Write", "Create and edit assets, descriptions, owners, tags and term links."),
    ("delete", "Delete", "Remove assets from the catalog."),
    ("manage-attributes", "Manage attributes",
     "Define custom attributes and their validation shapes."),
    ("manage-ontology", "Manage ontology", "Edit classes and properties of the ontology."),
    ("manage-rules", "Manage rules",
     "Author classification rules and their propagation along lineage."),
    ("manage-access", "Manage access", "Grant roles to teams and edit access policies."),
    ("run-ingestion", "Run ingestion", "Configure and trigger metadata ingestion connectors."),
)

ROLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("viewer", "Viewer", "Read-only access to the workspace catalog.", ("read",)),
    ("editor", "Editor", "Curates documentation, ownership and tags of assets.",
     ("read", "write")),
    ("steward", "Data steward", "Owns data quality and classification of a domain.",
     ("read", "write", "manage-attributes", "manage-rules")),
    ("ingestion-operator", "Ingestion operator", "Runs and monitors metadata ingestion.",
     ("read", "run-ingestion")),
    ("governance-admin", "Governance admin",
     "Sets the ontology, custom attributes, classification rules and access policies.",
     ("read", "write", "delete", "manage-attributes", "manage-ontology", "manage-rules",
      "manage-access")),
    ("workspace-admin", "Workspace admin", "Full control of a workspace.",
     ("read", "write", "delete", "manage-attributes", "manage-ontology", "manage-rules",
      "manage-access", "run-ingestion")),
)

TEAMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("data-platform", "Data Platform",
     "Runs the warehouse, ingestion pipelines and the catalog itself.",
     ("workspace-admin", "ingestion-operator")),
    ("analytics", "Analytics Engineering",
     "Builds the dbt staging models and marts and the core sales dashboards.", ("editor",)),
    ("finance", "Finance & FP&A",
     "Owns revenue reporting, the general ledger marts and the monthly close.",
     ("editor", "steward")),
    ("marketing", "Growth Marketing",
     "Paid media, CRM e-mail and attribution analytics.", ("editor",)),
    ("data-science", "Data Science",
     "Builds the churn, demand forecast, fraud and recommendation models.", ("editor",)),
    ("governance", "Data Governance",
     "Privacy, classification and glossary stewardship across all domains.",
     ("governance-admin", "steward")),
    ("support", "Customer Support",
     "Support operations and the helpdesk database.", ("viewer",)),
    ("security", "Security", "Information security and access reviews.",
     ("governance-admin",)),
    ("people-ops", "People Operations", "HR analytics and Workday reporting.",
     ("viewer", "steward")),
    ("research", "Research Lab", "Experimentation and NLP prototyping group.", ("editor",)),
)

USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("asha.patel", "Asha Patel", ("data-platform",)),
    ("marcus.lee", "Marcus Lee", ("data-platform",)),
    ("sofia.rossi", "Sofia Rossi", ("data-platform", "security")),
    ("tomas.novak", "Tomáš Novák", ("data-platform",)),
    ("ben.carter", "Ben Carter", ("data-platform", "analytics")),
    ("priya.raman", "Priya Raman", ("analytics",)),
    ("daniel.okafor", "Daniel Okafor", ("analytics", "finance")),
    ("emily.chen", "Emily Chen", ("analytics",)),
    ("lucas.martin", "Lucas Martin", ("analytics", "marketing")),
    ("nadia.hussain", "Nadia Hussain", ("support", "analytics")),
    ("hannah.schmidt", "Hannah Schmidt", ("finance",)),
    ("robert.jones", "Robert Jones", ("finance",)),
    ("grace.kim", "Grace Kim", ("finance", "governance")),
    ("olivia.brown", "Olivia Brown", ("marketing",)),
    ("mateo.garcia", "Mateo García", ("marketing",)),
    ("chloe.dubois", "Chloé Dubois", ("marketing",)),
    ("ivan.petrov", "Ivan Petrov", ("data-science",)),
    ("mei.tanaka", "Mei Tanaka", ("data-science", "research")),
    ("samuel.adeyemi", "Samuel Adeyemi", ("data-science",)),
    ("fatima.haddad", "Fatima Haddad", ("governance",)),
    ("jonas.berg", "Jonas Berg", ("governance", "security")),
    ("julia.weber", "Julia Weber", ("governance",)),
    ("laura.silva", "Laura Silva", ("support",)),
    ("kevin.obrien", "Kevin O'Brien", ("support",)),
    ("ethan.wright", "Ethan Wright", ("security",)),
    ("aiko.sato", "Aiko Sato", ("security",)),
    ("rachel.cohen", "Rachel Cohen", ("people-ops",)),
    ("diego.fernandez", "Diego Fernández", ("people-ops", "finance")),
    ("noah.williams", "Noah Williams", ("research",)),
    ("zara.ahmed", "Zara Ahmed", ("research", "data-science")),
)

TAGS: tuple[tuple[str, str, str], ...] = (
    ("tier-1", "Tier 1", "Business-critical: incidents page the on-call data engineer."),
    ("tier-2", "Tier 2", "Important; fixed within one business day."),
    ("certified", "Certified", "Reviewed by the owning team and approved for reporting."),
    ("deprecated", "Deprecated", "Scheduled for removal; migrate to the documented successor."),
    ("finance", "Finance", "Used in financial reporting."),
    ("marketing", "Marketing", "Owned by or built for growth marketing."),
    ("gdpr", "GDPR", "Holds personal data of EU/UK residents; subject access requests apply."),
    ("pci", "PCI DSS", "Holds payment card data in PCI DSS scope."),
    ("sox", "SOX", "In scope of Sarbanes-Oxley financial controls."),
    ("hourly", "Hourly", "Refreshed every hour."),
    ("daily", "Daily", "Refreshed once a day."),
    ("weekly", "Weekly", "Refreshed once a week."),
    ("experimental", "Experimental", "Prototype; no SLA and may change without notice."),
    ("raw", "Raw layer", "Untransformed data as landed from the source."),
    ("staging", "Staging layer", "Cleaned one-to-one models of raw tables."),
    ("mart", "Mart layer", "Modelled business-facing tables and views."),
    ("ml", "Machine learning", "Feature sets, training data or model outputs."),
    ("customer-360", "Customer 360", "Part of the unified customer view."),
    ("reverse-etl", "Reverse ETL", "Copied from the warehouse back into an operational tool."),
)

PII_VALUES: tuple[tuple[str, str, str], ...] = (
    ("email", "PII.Email", "E-mail address that identifies a person."),
    ("phone", "PII.Phone", "Telephone number of a person."),
    ("name", "PII.Name", "Given name, family name or full name of a person."),
    ("address", "PII.Address", "Street address or postal code locating a person's home or "
     "delivery point."),
    ("date-of-birth", "PII.DateOfBirth", "Date of birth of a person."),
    ("ip-address", "PII.IPAddress", "IP address of a person's device; personal data under GDPR."),
    ("payment-card", "PII.PaymentCard", "Card number fragments or fingerprints in PCI scope."),
    ("government-id", "PII.GovernmentId", "Social security, national insurance or tax number."),
)

SENSITIVITY_VALUES: tuple[tuple[str, str, str], ...] = (
    ("public", "Sensitivity.Public", "May be published outside the company."),
    ("internal", "Sensitivity.Internal", "Any employee may read it."),
    ("confidential", "Sensitivity.Confidential",
     "Personal or commercially sensitive; need-to-know access within the owning domains."),
    ("restricted", "Sensitivity.Restricted",
     "Highest protection: payment, payroll and identity data; access is individually approved."),
)

GLOSSARY: tuple[tuple[str, str, str], ...] = (
    ("customer", "Customer", "A person or business with a registered storefront account who "
     "has placed at least one order or holds a loyalty membership. Guest checkouts become "
     "customers when they create an account."),
    ("order", "Order", "A confirmed request by a customer to buy one or more items, created when "
     "checkout succeeds and payment is authorised. An order has one or more order lines."),
    ("product", "Product", "A sellable style in the catalogue, such as a jacket model, "
     "independent of size and colour; its purchasable forms are variants identified by SKU."),
    ("sku", "SKU", "Stock keeping unit: the code of one purchasable variant (style, size, "
     "colour) used for inventory, picking and reporting."),
    ("gross-merchandise-value", "Gross Merchandise Value",
     "GMV: total value of goods sold through the storefront in a period, at the price paid, "
     "before deducting refunds, returns and cancellations. Excludes tax and shipping."),
    ("net-revenue", "Net Revenue", "Revenue recognised after discounts, refunds and "
     "chargebacks, excluding sales tax and VAT; the top line of the P&L."),
    ("churn", "Churn", "A customer is churned when they have not ordered for 180 days after "
     "having ordered before. The churn rate is the share of active customers who churn in a "
     "period."),
    ("customer-address", "Customer Address", "A postal address a customer saved for billing or "
     "delivery. It is personal data and must be erased on a verified deletion request."),
    ("active-customer", "Active Customer", "A customer with at least one non-cancelled order in "
     "the trailing 365 days."),
    ("active-user", "Active User", "A visitor, signed in or anonymous, with at least one "
     "engaged session (two page views or one interaction) in the trailing 28 days."),
    ("refund", "Refund", "Money returned to a customer against a captured payment, in full or in "
     "part, for a return, cancellation, lost parcel or goodwill gesture."),
    ("cohort", "Cohort", "A group of customers who made their first order in the same calendar "
     "month, followed over time to measure retention and lifetime value."),
    ("customer-lifetime-value", "Customer Lifetime Value", "LTV: the net revenue a customer "
     "generates over their relationship with Acme, realised to date plus predicted future "
     "value, usually over a 12- or 36-month horizon."),
    ("average-order-value", "Average Order Value", "AOV: order total summed over orders, "
     "divided by the number of orders, in a period."),
    ("return-rate", "Return Rate", "Units returned divided by units sold over the same period, "
     "by product, category or customer."),
    ("conversion-rate", "Conversion Rate", "Share of sessions (or, for experiments, of exposed "
     "customers) that result in at least one order."),
    ("cart-abandonment", "Cart Abandonment", "A cart with at least one item that was not "
     "converted into an order within 24 hours of its last change."),
    ("fulfilment", "Fulfilment", "Picking, packing and shipping an order to the customer; "
     "measured by ship time and on-time delivery against the promised date."),
    ("inventory", "Inventory", "Stock of a SKU in a warehouse. On hand minus reserved for open "
     "orders equals available to sell."),
    ("stockout", "Stockout", "A SKU with no available-to-sell units in a warehouse, or at risk "
     "when available stock falls below its reorder point."),
    ("days-of-supply", "Days of Supply", "Available units divided by average daily units sold "
     "over the trailing 28 days: how long current stock lasts at the current sales rate."),
    ("return-on-ad-spend", "Return on Ad Spend", "ROAS: revenue attributed to advertising "
     "divided by the media spend that generated it."),
    ("customer-acquisition-cost", "Customer Acquisition Cost", "CAC: marketing spend in a "
     "period divided by the number of new customers acquired in that period."),
    ("attribution", "Attribution", "Assigning credit for an order to the marketing touchpoints "
     "that preceded it, using first-click, last-click, linear or data-driven models."),
    ("chargeback", "Chargeback", "A payment reversal initiated by the cardholder's bank, for "
     "fraud or a merchant dispute; counts against net revenue and fraud thresholds."),
    ("csat", "CSAT", "Customer satisfaction score: share of survey answers of 4 or 5 on a "
     "five-point scale after a support ticket is solved."),
    ("first-response-time", "First Response Time", "Time from ticket creation to the first "
     "public reply by an agent, within business hours for email tickets."),
    ("headcount", "Headcount", "Number of employees (excluding contingent workers) on the last "
     "day of a period."),
    ("attrition", "Attrition", "Employees who left in a period divided by average headcount, "
     "annualised; voluntary and involuntary leavers are reported separately."),
    ("general-ledger", "General Ledger", "The complete record of the company's financial "
     "transactions, organised by account, from which financial statements are prepared."),
    ("cost-of-goods-sold", "Cost of Goods Sold", "COGS: landed cost of the units sold - "
     "purchase price, inbound freight and duty - recognised when revenue is recognised."),
    ("gross-margin", "Gross Margin", "Net revenue minus cost of goods sold, also expressed as a "
     "percentage of net revenue."),
    ("loyalty-program", "Loyalty Program", "Acme Rewards: members earn points per dollar spent "
     "and qualify for the Trail, Summit and Peak tiers by annual spend."),
    ("promotion", "Promotion", "A time-limited price incentive (percentage off, amount off, "
     "free shipping) applied automatically or through a coupon code."),
    ("session", "Session", "A sequence of storefront hits from one browser with no gap longer "
     "than 30 minutes; UTM parameters of the first hit set its channel."),
    ("supplier", "Supplier", "A vendor that manufactures or distributes products Acme buys "
     "for resale."),
    ("purchase-order", "Purchase Order", "A commercial document sent to a supplier committing "
     "Acme to buy stated quantities of SKUs at agreed prices."),
)
