"""People, tags, classifications, glossary, pipelines, dashboards and ML models of the demo.

Pure data, read by `demo.generator`. Table references are qualified names from
`demo.vocabulary`; a pipeline's `produces` entries may be fnmatch patterns.
"""

from __future__ import annotations

from typing import NamedTuple

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


class PipelineDef(NamedTuple):
    qualified_name: str
    platform: str
    schedule: str  # hourly | daily | weekly
    owners: tuple[str, ...]
    description: str
    produces: tuple[str, ...]
    tags: tuple[str, ...] = ()
    workspace: str = "acme"


PIPELINES: tuple[PipelineDef, ...] = (
    PipelineDef("postgres_shop_to_snowflake", "airflow", "hourly",
                ("team/data-platform", "user/marcus.lee"),
                "Airflow DAG that copies changed rows of every storefront table from the "
                "Postgres read replica into Snowflake raw, using updated_at watermarks.",
                ("analytics.raw.shop_*",), ("tier-1",)),
    PipelineDef("postgres_helpdesk_to_snowflake", "airflow", "hourly",
                ("team/data-platform", "user/tomas.novak"),
                "Incremental replication of the support desk database into Snowflake raw.",
                ("analytics.raw.helpdesk_*",)),
    PipelineDef("stripe_to_snowflake", "airflow", "hourly",
                ("team/data-platform", "user/sofia.rossi"),
                "Pulls charges, disputes and payouts from the Stripe API with cursor "
                "pagination and loads them to Snowflake raw.",
                ("analytics.raw.stripe_*",), ("pci",)),
    PipelineDef("netsuite_to_snowflake", "airflow", "daily",
                ("team/finance", "user/robert.jones"),
                "Nightly export of NetSuite saved searches (GL lines, vendor invoices, vendors) "
                "to S3 and COPY INTO Snowflake raw.",
                ("analytics.raw.netsuite_*",), ("finance", "sox")),
    PipelineDef("workday_to_snowflake", "airflow", "daily",
                ("team/people-ops", "user/diego.fernandez"),
                "Downloads the Workday RaaS worker, compensation and organisation reports and "
                "loads them to Snowflake raw; runs in a restricted Airflow pool.",
                ("analytics.raw.workday_*",), ("gdpr",)),
    PipelineDef("dbt_staging_hourly", "dbt", "hourly", ("team/analytics", "user/priya.raman"),
                "dbt Cloud job running `dbt build --select staging` after each raw load: "
                "rebuilds all staging models and their not-null and uniqueness tests.",
                ("analytics.staging.*",)),
    PipelineDef("dbt_core_marts_daily", "dbt", "daily", ("team/analytics", "user/emily.chen"),
                "Nightly dbt job building the dimensional marts (dim_, fct_) and reporting "
                "views that Looker and Tableau read.",
                ("analytics.marts.dim_*", "analytics.marts.fct_*", "analytics.marts.v_*"),
                ("tier-1",)),
    PipelineDef("dbt_customer_models_daily", "dbt", "daily",
                ("team/data-science", "user/samuel.adeyemi"),
                "Builds customer lifetime value and the feature and training tables of the "
                "churn, demand forecast and fraud models.",
                ("analytics.marts.customer_ltv", "analytics.marts.customer_churn_features",
                 "analytics.marts.demand_forecast_training",
                 "analytics.marts.fraud_training_set"), ("ml",)),
    PipelineDef("churn_scoring_daily", "airflow", "daily",
                ("team/data-science", "user/ivan.petrov"),
                "Loads the production churn model from the MLflow registry, scores every "
                "active customer and writes probabilities back to Snowflake.",
                ("analytics.marts.customer_churn_scores",), ("ml",)),
    PipelineDef("dbt_finance_daily", "dbt", "daily", ("team/finance", "user/daniel.okafor"),
                "Builds the finance marts: revenue bridge, GL journal, chart of accounts, "
                "vendor spend, payout reconciliation and the monthly P&L view.",
                ("analytics.finance.*",), ("finance", "sox")),
    PipelineDef("dbt_people_weekly", "dbt", "weekly",
                ("team/people-ops", "user/rachel.cohen"),
                "Weekly build of the HR marts from Workday staging models.",
                ("analytics.people.*",)),
    PipelineDef("ads_platforms_sync", "airflow", "daily",
                ("team/marketing", "user/mateo.garcia"),
                "Syncs campaigns, ad groups and daily spend from Google Ads, Meta and TikTok "
                "into BigQuery.", ("marketing.ads.*",), ("marketing",)),
    PipelineDef("web_events_loader", "airflow", "hourly",
                ("team/marketing", "user/lucas.martin"),
                "Loads clickstream sessions, page views and events from the tag collector's "
                "GCS bucket into BigQuery, sessionising hits.",
                ("marketing.web.*",), ("marketing",)),
    PipelineDef("email_platform_sync", "airflow", "daily",
                ("team/marketing", "user/chloe.dubois"),
                "Exports subscribers, campaign sends and engagement events from the e-mail "
                "service provider into BigQuery.",
                ("marketing.crm.subscribers", "marketing.crm.email_*"), ("marketing", "gdpr")),
    PipelineDef("reverse_etl_orders_to_bigquery", "airflow", "hourly",
                ("team/data-platform", "user/ben.carter"),
                "Copies new and updated rows of the Snowflake order fact into BigQuery so that "
                "marketing attribution can join orders with sessions.",
                ("marketing.attribution.conversions",), ("reverse-etl",)),
    PipelineDef("attribution_daily", "dbt", "daily", ("team/marketing", "user/olivia.brown"),
                "dbt on BigQuery: builds touchpoints, multi-touch attribution results, channel "
                "ROI and e-mail engagement views.",
                ("marketing.attribution.touchpoints", "marketing.attribution.attribution_results",
                 "marketing.attribution.v_channel_roi", "marketing.crm.v_email_engagement"),
                ("marketing",)),
    PipelineDef("lab_experiments_refresh", "airflow", "daily",
                ("team/research", "user/noah.williams"),
                "Refreshes experiment definitions and variant assignments from the feature "
                "flag service for the research lab.",
                ("lab.experiments.*",), ("experimental",), "research"),
)

FAILURES: dict[str, tuple[str, ...]] = {
    "airflow": (
        "task load_to_snowflake failed: warehouse LOADER_WH was suspended (error 000606)",
        "sensor wait_for_source_export found no new export file in the bucket",
        "source API answered HTTP 429 Too Many Requests after 5 retries",
        "task extract failed: connection to the read replica was refused",
    ),
    "dbt": (
        "test not_null_stg_orders_customer_id failed with 12 rows",
        "test unique_fct_orders_order_id failed with 3 duplicate keys",
        "compilation error: column REFUND_AMOUNT not found in upstream model",
        "query exceeded the warehouse statement timeout of 3600 seconds",
    ),
}


class ChartDef(NamedTuple):
    slug: str
    name: str
    description: str
    consumes: tuple[str, ...]


class DashboardDef(NamedTuple):
    qualified_name: str
    platform: str
    name: str
    owners: tuple[str, ...]
    description: str
    charts: tuple[ChartDef, ...]
    tags: tuple[str, ...] = ()
    workspace: str = "acme"


D = DashboardDef
CH = ChartDef
MA = "analytics.marts."

DASHBOARDS: tuple[DashboardDef, ...] = (
    D("sales_overview", "looker", "Sales Overview", ("team/analytics", "user/priya.raman"),
      "Daily trading dashboard for the commercial team: GMV, net revenue, orders and AOV "
      "against last year, by channel, with the best-selling products.",
      (CH("daily_gmv_trend", "Daily GMV trend", "Line chart of GMV and net revenue per day "
          "over the last 90 days with the same day last year.", (MA + "v_daily_sales",)),
       CH("gmv_by_channel", "GMV by channel", "Stacked weekly bars of GMV split into web, iOS, "
          "Android and kiosk.", (MA + "v_weekly_gmv_by_channel",)),
       CH("average_order_value", "Average order value", "Single value with sparkline of AOV "
          "for the selected period.", (MA + "v_daily_sales",)),
       CH("top_products", "Top 20 products", "Table of the best-selling products by revenue "
          "with units and gross margin.", (MA + "v_top_products",))),
      ("tier-1", "certified")),
    D("executive_kpis", "tableau", "Executive KPIs", ("team/finance", "user/hannah.schmidt"),
      "Weekly board-level scorecard: revenue, margin, active customers and churn compared "
      "with plan.",
      (CH("net_revenue_vs_plan", "Net revenue vs plan", "Monthly net revenue bars with the "
          "budget line.", ("analytics.finance.fct_revenue",)),
       CH("gross_margin_pct", "Gross margin %", "Gross margin percentage by month.",
          ("analytics.finance.v_monthly_pnl",)),
       CH("active_customers", "Active customers", "Count of customers with an order in the "
          "last 365 days.", (MA + "dim_customers",)),
       CH("churn_rate", "Churn rate", "Share of last quarter's active customers predicted to "
          "churn.", (MA + "customer_churn_scores",))),
      ("tier-1", "finance")),
    D("customer_retention", "looker", "Customer Retention",
      ("team/data-science", "user/samuel.adeyemi"),
      "Retention and lifetime value of acquisition cohorts, with the churn-risk mix of the "
      "current customer base for CRM planning.",
      (CH("cohort_heatmap", "Cohort retention heatmap", "Share of each monthly cohort ordering "
          "again N months later.", (MA + "v_cohort_retention",)),
       CH("ltv_by_cohort", "LTV by cohort", "Realised and predicted 12-month LTV per "
          "acquisition month.", (MA + "customer_ltv",)),
       CH("churn_risk_bands", "Churn risk bands", "Customers by low, medium and high churn "
          "risk and loyalty tier.", (MA + "customer_churn_scores", MA + "dim_customers"))),
      ("customer-360",)),
    D("marketing_performance", "looker", "Marketing Performance",
      ("team/marketing", "user/olivia.brown"),
      "Paid media and CRM performance: spend, attributed revenue, ROAS by channel and "
      "campaign, and e-mail engagement.",
      (CH("roas_by_channel", "ROAS by channel", "Return on ad spend per channel under the "
          "data-driven model.", ("marketing.attribution.v_channel_roi",)),
       CH("spend_vs_revenue", "Spend vs attributed revenue", "Daily spend and attributed "
          "revenue per ad platform.",
          ("marketing.ads.ad_spend", "marketing.attribution.attribution_results")),
       CH("email_engagement", "E-mail engagement", "Open and click rate of the last 20 "
          "e-mail campaigns.", ("marketing.crm.v_email_engagement",)),
       CH("sessions_by_source", "Sessions by source", "Sessions and bounce rate by UTM "
          "source and medium.", ("marketing.web.web_sessions",)),
       CH("cac_trend", "CAC trend", "Customer acquisition cost by month.",
          ("marketing.attribution.v_channel_roi",))),
      ("marketing",)),
    D("inventory_health", "tableau", "Inventory Health", ("team/analytics", "user/ben.carter"),
      "Stock position for buyers and planners: stockout risk, days of supply by warehouse and "
      "the demand forecast for the next eight weeks.",
      (CH("stockout_risk", "Stockout risk", "Variants below reorder point or under 14 days of "
          "supply.", (MA + "v_inventory_alerts",)),
       CH("days_of_supply_by_warehouse", "Days of supply by warehouse", "Box plot of days of "
          "supply per warehouse and department.", (MA + "fct_inventory_daily",)),
       CH("forecast_vs_actual", "Forecast vs actual units", "Weekly units sold against the "
          "demand forecast.", (MA + "demand_forecast_training",))),
      ("daily",)),
    D("fulfilment_operations", "tableau", "Fulfilment Operations",
      ("team/analytics", "user/emily.chen"),
      "Carrier and warehouse performance: on-time delivery, transit times and returns.",
      (CH("on_time_delivery", "On-time delivery rate", "Weekly on-time rate by carrier.",
          (MA + "v_delivery_performance",)),
       CH("shipments_by_carrier", "Shipments by carrier", "Parcels shipped per carrier and "
          "service level.", (MA + "fct_shipments",)),
       CH("return_rates", "Return rates by category", "Return rate and top reason per "
          "category.", (MA + "v_return_rates",)),
       CH("return_resolution_time", "Return resolution time", "Days from return request to "
          "refund.", (MA + "fct_returns",)))),
    D("support_operations", "looker", "Support Operations",
      ("team/support", "user/laura.silva"),
      "Backlog, responsiveness and satisfaction of customer support.",
      (CH("open_backlog", "Open ticket backlog", "Unsolved tickets by priority and age.",
          (MA + "v_open_tickets",)),
       CH("first_response_time", "First response time", "Median minutes to first reply by "
          "channel.", (MA + "fct_support_tickets",)),
       CH("csat_trend", "CSAT trend", "Weekly CSAT with response count.",
          (MA + "fct_support_tickets",)))),
    D("finance_monthly_close", "tableau", "Finance Monthly Close",
      ("team/finance", "user/grace.kim"),
      "Close checklist numbers: P&L against budget, revenue bridge, payout reconciliation "
      "and vendor spend.",
      (CH("pnl_vs_budget", "P&L vs budget", "Monthly P&L lines with variance to budget.",
          ("analytics.finance.v_monthly_pnl",)),
       CH("revenue_bridge", "Revenue bridge", "Waterfall from gross revenue to net revenue.",
          ("analytics.finance.fct_revenue",)),
       CH("unreconciled_payouts", "Unreconciled payouts", "Stripe payouts with a variance "
          "above tolerance.", ("analytics.finance.payout_reconciliation",)),
       CH("vendor_spend", "Top vendor spend", "Spend and days payable by vendor.",
          ("analytics.finance.fct_vendor_spend",))),
      ("finance", "sox")),
    D("people_analytics", "tableau", "People Analytics",
      ("team/people-ops", "user/rachel.cohen"),
      "Headcount, hiring and attrition for leadership and HR business partners.",
      (CH("headcount_by_department", "Headcount by department", "Current headcount and open "
          "requisitions.", ("analytics.people.v_headcount_by_department",)),
       CH("attrition_trend", "Attrition trend", "Annualised attrition by month.",
          ("analytics.people.fct_headcount_monthly",)),
       CH("hires_and_leavers", "Hires and leavers", "Monthly hires and terminations.",
          ("analytics.people.fct_headcount_monthly",)))),
    D("fraud_monitoring", "looker", "Fraud Monitoring",
      ("team/security", "user/ethan.wright"),
      "Payment risk monitoring: Radar outcomes, chargeback rate and high-risk payments.",
      (CH("chargeback_rate", "Chargeback rate", "Disputed payments as a share of captured "
          "payments, against the 0.65% card-network threshold.", (MA + "fct_payments",)),
       CH("radar_outcomes", "Radar outcomes", "Payments by Radar outcome and card brand.",
          (MA + "fct_payments",)),
       CH("high_risk_payments", "High-risk payments", "Payments with risk score above 75 "
          "in the last 7 days.", (MA + "fct_payments",))),
      ("pci",)),
    D("experiment_readouts", "looker", "Experiment Readouts",
      ("team/research", "user/zara.ahmed"),
      "Readouts of running and concluded storefront A/B tests.",
      (CH("conversion_by_variant", "Conversion by variant", "Conversion rate per variant with "
          "confidence intervals.", ("lab.experiments.v_experiment_results",)),
       CH("lift_summary", "Lift summary", "Lift over control and p-value per experiment.",
          ("lab.experiments.v_experiment_results",)),
       CH("exposure_counts", "Exposure counts", "Customers assigned per variant per day.",
          ("lab.experiments.ab_assignments",))),
      ("experimental",), "research"),
)


class ModelDef(NamedTuple):
    qualified_name: str
    name: str
    owners: tuple[str, ...]
    description: str
    training: tuple[str, ...]
    consumes: tuple[str, ...]
    features: tuple[tuple[str, str, str], ...]  # (name, source column qualified name, description)
    tags: tuple[str, ...] = ()
    workspace: str = "acme"


MODELS: tuple[ModelDef, ...] = (
    ModelDef("churn_prediction", "Churn prediction", ("team/data-science", "user/ivan.petrov"),
             "LightGBM classifier predicting whether a customer stops ordering in the next 180 "
             "days from recency, frequency, spend, support contacts and returns. ROC AUC 0.84 "
             "on the 2026-Q2 holdout; retrained monthly.",
             (MA + "customer_churn_features",), (MA + "customer_churn_features",),
             (("days_since_last_order", MA + "customer_churn_features.days_since_last_order",
               "Recency in days; the strongest single predictor of churn."),
              ("orders_last_90d", MA + "customer_churn_features.orders_last_90d",
               "Order frequency over the trailing 90 days."),
              ("revenue_last_90d", MA + "customer_churn_features.revenue_last_90d",
               "Net spend over the trailing 90 days, log-transformed."),
              ("support_tickets_last_90d",
               MA + "customer_churn_features.support_tickets_last_90d",
               "Number of support contacts, a signal of friction."),
              ("returns_last_90d", MA + "customer_churn_features.returns_last_90d",
               "Returns requested in the trailing 90 days."),
              ("avg_csat_score", MA + "customer_churn_features.avg_csat_score",
               "Average satisfaction rating after support contacts; missing means no survey."),
              ("loyalty_tier", MA + "customer_churn_features.loyalty_tier",
               "One-hot encoded loyalty tier.")),
             ("ml", "tier-2")),
    ModelDef("demand_forecast", "Demand forecast", ("team/data-science", "user/mei.tanaka"),
             "Global gradient-boosted model forecasting daily units per product and warehouse "
             "eight weeks ahead, used for replenishment. WAPE 23% at product-week level.",
             (MA + "demand_forecast_training",),
             (MA + "demand_forecast_training", MA + "dim_products"),
             (("units_sold_lag_7", MA + "demand_forecast_training.units_sold",
               "Units sold seven days earlier; lags of 14 and 28 days are also used."),
              ("quantity_on_hand", MA + "demand_forecast_training.quantity_on_hand",
               "Stock on hand, to correct sales censored by stockouts."),
              ("list_price", MA + "demand_forecast_training.list_price",
               "Regular price of the product."),
              ("is_holiday", MA + "demand_forecast_training.is_holiday",
               "US public holiday indicator."),
              ("is_promotion_active", MA + "demand_forecast_training.is_promotion_active",
               "Whether a promotion ran on the day."))),
    ModelDef("fraud_detection", "Fraud detection", ("team/security", "user/samuel.adeyemi"),
             "XGBoost model scoring card payments for fraud before capture; payments above "
             "the 0.8 threshold go to manual review. Precision 0.71 at 60% recall.",
             (MA + "fraud_training_set",), (MA + "fct_payments",),
             (("amount", MA + "fraud_training_set.amount", "Payment amount in USD."),
              ("payment_method", MA + "fraud_training_set.payment_method",
               "Payment method, target-encoded."),
              ("card_brand", MA + "fraud_training_set.card_brand", "Card network."),
              ("radar_risk_score", MA + "fraud_training_set.risk_score",
               "Stripe Radar's own risk score."),
              ("customer_tenure_days", MA + "fraud_training_set.customer_tenure_days",
               "Account age at payment time; new accounts are riskier."),
              ("is_first_order", MA + "fraud_training_set.is_first_order",
               "First order of the account."),
              ("ip_country", MA + "fraud_training_set.ip_country",
               "Country of the checkout IP, compared with the card country.")),
             ("ml", "pci")),
    ModelDef("product_recommender", "Product recommender",
             ("team/data-science", "user/zara.ahmed"),
             "Implicit-feedback matrix factorisation (ALS) producing 'you may also like' "
             "recommendations on product pages and in e-mails.",
             (MA + "fct_order_items", MA + "fct_product_reviews", MA + "dim_products"),
             (MA + "dim_products",),
             (("purchase_quantity", MA + "fct_order_items.quantity",
               "Units of the product bought by the customer, the implicit feedback signal."),
              ("review_rating", MA + "fct_product_reviews.rating",
               "Star rating, used to down-weight disliked products."),
              ("category", MA + "dim_products.category_name",
               "Category of the product, for cold-start items."),
              ("brand", MA + "dim_products.brand", "Brand of the product.")),
             ("ml", "experimental")),
    ModelDef("review_sentiment_classifier", "Review sentiment classifier",
             ("team/research", "user/mei.tanaka"),
             "Fine-tuned DistilBERT classifying review text as positive, neutral or negative; "
             "prototype for the sentiment label in product review reporting.",
             ("lab.nlp.review_corpus",), ("lab.nlp.review_corpus",),
             (("review_text", "lab.nlp.review_corpus.review_body",
               "Review text, tokenised to 256 word pieces."),
              ("star_rating", "lab.nlp.review_corpus.rating",
               "Star rating, used only as an auxiliary input."),
              ("language", "lab.nlp.review_corpus.review_language",
               "Language of the review; non-English reviews are translated first.")),
             ("experimental",), "research"),
)
