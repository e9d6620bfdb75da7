"""The demo's pipelines (with their failures), dashboards and ML models: what is built on the
tables. Pure data, read by `demo.generator`. Table references are qualified names from
`demo.vocabulary` and `demo.warehouse`; a pipeline's `produces` entries may be fnmatch
patterns.
"""

from __future__ import annotations

from typing import NamedTuple


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
