"""Databases, schemas, and the source and raw tables of the Acme Outfitters demo catalog.

Pure data, read by `demo.generator`. A table lists its columns as one whitespace-separated
string of tokens; each token is a column name from `demo.analytics_columns.COLUMNS` (which
gives its SQL type, description and any PII classification or glossary term), optionally
followed by its column-level lineage:

    order_id                       same-named column of the first upstream table having it
    order_date=placed_at           column `placed_at` of the first upstream table having it
    gmv=fct_orders.order_total     column `order_total` of upstream table `...fct_orders`
    full_name=first_name+last_name several upstream columns

A token whose source is not found is an error; a bare token without a match simply has no
column lineage (a computed column). `{entity}` in a description is replaced by the table's
entity noun. Types are written in PostgreSQL dialect and translated per platform.
"""

from __future__ import annotations

from typing import NamedTuple


class DatabaseDef(NamedTuple):
    name: str
    platform: str
    workspace: str
    owner: str
    description: str


class SchemaDef(NamedTuple):
    qualified_name: str
    owner: str
    tags: tuple[str, ...]  # also given to every table of the schema
    description: str


class TableDef(NamedTuple):
    qualified_name: str
    entity: str
    description: str
    columns: str
    upstream: tuple[str, ...] = ()
    view: bool = False
    sensitivity: str | None = None  # default: confidential if any column is PII, else internal
    tags: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()


DATABASES: tuple[DatabaseDef, ...] = (
    DatabaseDef(
        "shop", "postgres", "acme", "team/data-platform",
        "Production PostgreSQL 15 OLTP database behind the acmeoutfitters.com storefront and the "
        "mobile apps: customer accounts, catalogue, carts, orders, payments and fulfilment.",
    ),
    DatabaseDef(
        "helpdesk", "postgres", "acme", "team/support",
        "PostgreSQL database of the in-house customer support desk: tickets raised by email, "
        "chat and phone, agent replies, SLA policies and satisfaction surveys.",
    ),
    DatabaseDef(
        "analytics", "snowflake", "acme", "team/data-platform",
        "Snowflake data warehouse (account acme_prod, warehouse TRANSFORM_WH) holding raw "
        "replicas, dbt staging models and the curated marts used by BI and machine learning.",
    ),
    DatabaseDef(
        "marketing", "bigquery", "acme", "team/marketing",
        "BigQuery project of the growth team: paid media spend, web analytics sessions, email "
        "marketing events and multi-touch attribution of orders to channels.",
    ),
    DatabaseDef(
        "lab", "snowflake", "research", "team/research",
        "Sandbox Snowflake database of the research group for A/B experiments and NLP "
        "prototypes; data here is not certified and may be rebuilt at any time.",
    ),
)

SCHEMAS: tuple[SchemaDef, ...] = (
    SchemaDef("shop.public", "team/data-platform", (),
              "Default schema of the storefront OLTP database, owned by the commerce backend "
              "service; every table is replicated hourly into the warehouse."),
    SchemaDef("helpdesk.public", "team/support", (),
              "Tables of the support desk application: tickets, comments, agents, SLA targets "
              "and post-resolution CSAT surveys."),
    SchemaDef("analytics.raw", "team/data-platform", ("raw",),
              "Landing zone: untransformed, append-only copies of source systems (Postgres, "
              "Stripe, NetSuite, Workday) with load metadata columns. Not for direct reporting."),
    SchemaDef("analytics.staging", "team/analytics", ("staging",),
              "dbt staging models: one model per raw table, renamed to snake_case, typed, "
              "deduplicated to the latest version and with soft-deleted rows removed."),
    SchemaDef("analytics.marts", "team/analytics", ("mart",),
              "Curated dimensional models (dim_ and fct_ tables) and reporting views that "
              "dashboards, notebooks and ML training read. Changes go through code review."),
    SchemaDef("analytics.finance", "team/finance", ("mart", "finance"),
              "Finance marts built from the general ledger, payouts and order revenue; the "
              "source of numbers used in the monthly close and board reporting."),
    SchemaDef("analytics.people", "team/people-ops", ("mart", "gdpr"),
              "HR analytics from Workday: employees, departments, headcount and compensation. "
              "Access is limited to People Ops and finance leadership."),
    SchemaDef("marketing.ads", "team/marketing", ("marketing",),
              "Paid media campaigns, ad groups and daily spend synced from Google Ads, Meta "
              "Ads and TikTok Ads."),
    SchemaDef("marketing.web", "team/marketing", ("marketing",),
              "Clickstream from the storefront tag: sessions, page views and custom events "
              "with UTM parameters and device information."),
    SchemaDef("marketing.crm", "team/marketing", ("marketing",),
              "Email marketing audience and engagement data exported from the email service "
              "provider: subscribers, campaign sends, opens, clicks and unsubscribes."),
    SchemaDef("marketing.attribution", "team/marketing", ("mart", "marketing"),
              "Multi-touch attribution of storefront orders to marketing touchpoints and the "
              "resulting return-on-ad-spend reporting."),
    SchemaDef("lab.experiments", "team/research", ("experimental",),
              "A/B test definitions, variant assignments and readouts of storefront "
              "experiments run by the research group."),
    SchemaDef("lab.nlp", "team/research", ("experimental",),
              "Labelled text corpora for natural-language prototypes such as review sentiment "
              "and ticket intent classification."),
)

# Source schemas whose tables are replicated into `analytics.raw` with a name prefix.
REPLICATED: tuple[tuple[str, str], ...] = (("shop.public", "shop_"), ("helpdesk.public", "helpdesk_"))
REPLICA_SCHEMA = "analytics.raw"
REPLICA_EXTRA_COLUMNS = "_loaded_at _batch_id"

T = TableDef

SOURCE_TABLES: tuple[TableDef, ...] = (
    # --- storefront OLTP (postgres) ---------------------------------------------------------
    T("shop.public.customers", "customer",
      "One row per registered shopper account on the website and mobile app, with contact "
      "details, marketing consent, loyalty tier and the channel the customer signed up from.",
      "customer_id email first_name last_name phone date_of_birth gender marketing_opt_in "
      "loyalty_tier signup_channel country_code created_at updated_at deleted_at",
      tags=("tier-1", "customer-360"), terms=("customer",)),
    T("shop.public.addresses", "address",
      "Postal addresses saved in customer address books and used for billing and delivery; a "
      "customer can have several, one of which is flagged as the default.",
      "address_id customer_id address_type recipient_name street_line1 street_line2 city "
      "region postal_code country_code phone is_default created_at updated_at",
      terms=("customer-address",)),
    T("shop.public.categories", "category",
      "Merchandising category tree (e.g. Outerwear > Jackets > Rain Jackets) used for site "
      "navigation and reporting hierarchies.",
      "category_id parent_category_id category_name category_path department sort_order "
      "is_active created_at", sensitivity="public"),
    T("shop.public.products", "product",
      "Catalogue of sellable products (styles) with brand, category, list price and unit cost; "
      "sizes and colours live in product_variants.",
      "product_id sku product_name brand category_id description list_price cost_price "
      "currency is_active launched_at discontinued_at created_at updated_at",
      tags=("tier-1",), terms=("product",)),
    T("shop.public.product_variants", "product variant",
      "Purchasable variants of a product, one per size/colour combination, each with its own "
      "SKU, barcode and shipping weight.",
      "variant_id product_id sku size color material weight_grams barcode list_price "
      "is_active created_at updated_at", terms=("sku",)),
    T("shop.public.warehouses", "warehouse",
      "Fulfilment centres and stores that hold stock, with location and storage capacity.",
      "warehouse_id warehouse_code warehouse_name city region country_code capacity_units "
      "is_active opened_at"),
    T("shop.public.inventory_levels", "inventory level",
      "Current stock per variant and warehouse, maintained by the warehouse management "
      "system: on hand, reserved for open orders and available to sell.",
      "inventory_id variant_id warehouse_id quantity_on_hand quantity_reserved "
      "quantity_available reorder_point reorder_quantity last_counted_at updated_at",
      terms=("inventory",)),
    T("shop.public.carts", "cart",
      "Shopping carts created by signed-in or anonymous visitors; a cart converts when it "
      "becomes an order and is marked abandoned after 24 hours of inactivity.",
      "cart_id customer_id session_id cart_status item_count cart_value currency ip_address "
      "user_agent created_at updated_at abandoned_at converted_at",
      terms=("cart-abandonment",)),
    T("shop.public.cart_items", "cart item",
      "Line items currently or previously in a shopping cart, with the price shown when the "
      "item was added.",
      "cart_item_id cart_id variant_id quantity unit_price added_at removed_at"),
    T("shop.public.orders", "order",
      "Customer orders placed on the web, iOS, Android and in-store kiosks. One row per order "
      "with monetary totals, status, addresses used and the client IP of the checkout.",
      "order_id order_number customer_id cart_id billing_address_id shipping_address_id "
      "order_status sales_channel currency subtotal_amount discount_amount shipping_amount "
      "tax_amount order_total coupon_code ip_address user_agent placed_at created_at "
      "updated_at", tags=("tier-1",), terms=("order",)),
    T("shop.public.order_items", "order line",
      "Order lines: which variant was bought, how many, at what unit price and with which "
      "discount and tax.",
      "order_item_id order_id variant_id sku quantity unit_price discount_amount tax_amount "
      "line_total is_gift created_at", tags=("tier-1",), terms=("order",)),
    T("shop.public.payments", "payment",
      "Payment attempts for orders through Stripe, PayPal and Klarna, including card brand, "
      "masked card number and fingerprint, authorisation and capture times.",
      "payment_id order_id payment_method payment_provider provider_transaction_id card_brand "
      "card_last4 card_fingerprint billing_postal_code amount currency payment_status "
      "failure_reason authorized_at captured_at created_at",
      sensitivity="restricted", tags=("tier-1", "pci")),
    T("shop.public.refunds", "refund",
      "Money returned to customers against a captured payment, for returns, cancellations, "
      "goodwill gestures or lost parcels.",
      "refund_id payment_id order_id return_id amount currency refund_reason refund_status "
      "processed_by created_at processed_at", terms=("refund",)),
    T("shop.public.shipments", "shipment",
      "Parcels shipped to customers from a warehouse, with carrier, service level, tracking "
      "number and delivery milestones reported by carrier webhooks.",
      "shipment_id order_id warehouse_id carrier service_level tracking_number "
      "shipping_address_id shipment_status weight_grams shipping_cost shipped_at "
      "estimated_delivery_at delivered_at created_at", terms=("fulfilment",)),
    T("shop.public.returns", "return",
      "Return merchandise authorisations: items customers send back, why, in what condition, "
      "and the refund granted once the warehouse has inspected them.",
      "return_id order_id order_item_id customer_id return_reason return_status "
      "condition_grade refund_amount requested_at received_at resolved_at",
      terms=("return-rate",)),
    T("shop.public.reviews", "review",
      "Product ratings and written reviews submitted by customers, with moderation status "
      "and whether the reviewer actually bought the product.",
      "review_id product_id customer_id order_id rating review_title review_body "
      "is_verified_purchase helpful_votes moderation_status created_at"),
    T("shop.public.promotions", "promotion",
      "Discount campaigns and coupon codes configured by merchandising: percentage or fixed "
      "discounts, minimum basket, validity window and usage limits.",
      "promotion_id promotion_code promotion_name promotion_type discount_percent "
      "discount_amount minimum_order_amount usage_limit starts_at ends_at is_active "
      "created_by created_at", terms=("promotion",)),
    T("shop.public.coupon_redemptions", "coupon redemption",
      "Each use of a promotion code on an order and the discount it produced.",
      "redemption_id promotion_id order_id customer_id discount_amount redeemed_at",
      terms=("promotion",)),
    T("shop.public.loyalty_accounts", "loyalty account",
      "Acme Rewards membership of a customer: points balance, lifetime points and current "
      "tier (Trail, Summit, Peak) with its expiry.",
      "loyalty_account_id customer_id loyalty_tier points_balance points_earned_lifetime "
      "points_redeemed_lifetime tier_expires_at enrolled_at updated_at",
      terms=("loyalty-program",)),
    T("shop.public.gift_cards", "gift card",
      "Digital and physical gift cards sold and redeemed in the store, with remaining balance "
      "and the e-mail address of the recipient.",
      "gift_card_id gift_card_code initial_balance current_balance currency "
      "purchaser_customer_id recipient_email issued_at expires_at", tags=("pci",)),
    T("shop.public.suppliers", "supplier",
      "Vendors that manufacture or distribute the products Acme sells, with payment terms, "
      "lead times and a primary contact person.",
      "supplier_id supplier_name contact_name contact_email contact_phone country_code "
      "payment_terms_days lead_time_days is_preferred created_at", terms=("supplier",)),
    T("shop.public.purchase_orders", "purchase order",
      "Replenishment orders sent to suppliers by the buying team, from draft to received.",
      "purchase_order_id supplier_id warehouse_id po_number po_status total_cost currency "
      "ordered_at expected_at received_at created_by", terms=("purchase-order",)),
    T("shop.public.v_open_orders", "open order",
      "Operational view used by the customer service console: orders that are paid but not "
      "yet shipped, with how long they have been waiting.",
      "order_id order_number customer_id order_status order_total placed_at "
      "hours_since_placed", upstream=("shop.public.orders",), view=True),
    # --- support desk (postgres) ------------------------------------------------------------
    T("helpdesk.public.tickets", "ticket",
      "Customer support tickets from email, chat, phone and social channels, with requester "
      "contact details, the related order, priority, assignee and response timestamps.",
      "ticket_id requester_email requester_name customer_id order_id subject channel "
      "priority ticket_status assignee_id group_name created_at first_response_at solved_at "
      "updated_at", tags=("tier-2",), terms=("first-response-time",)),
    T("helpdesk.public.ticket_comments", "ticket comment",
      "Messages exchanged on a ticket, written by customers or agents; internal notes are "
      "not public.",
      "comment_id ticket_id author_id author_role body is_public created_at"),
    T("helpdesk.public.agents", "agent",
      "Support agents and team leads who handle tickets, with their team and role.",
      "agent_id agent_name agent_email team_name agent_role is_active hired_at"),
    T("helpdesk.public.satisfaction_surveys", "satisfaction survey",
      "One-question CSAT surveys e-mailed after a ticket is solved, and the customer's answer.",
      "survey_id ticket_id customer_id csat_score survey_comment sent_at responded_at",
      terms=("csat",)),
    T("helpdesk.public.sla_policies", "SLA policy",
      "Service-level targets per ticket priority: minutes to first response and to resolution.",
      "sla_policy_id policy_name priority first_response_target_minutes "
      "resolution_target_minutes business_hours_only is_active"),
)

# Raw tables loaded into the warehouse straight from SaaS APIs (no catalogued upstream).
RAW_TABLES: tuple[TableDef, ...] = (
    T("analytics.raw.stripe_charges", "Stripe charge",
      "Charges exported from the Stripe API every 30 minutes: amount, outcome of Radar fraud "
      "screening, card brand and country, and the billing e-mail captured at checkout.",
      "charge_id payment_intent_id customer_reference amount currency charge_status "
      "card_brand card_last4 card_country billing_email risk_score outcome_type created_at "
      "_loaded_at", sensitivity="restricted", tags=("pci",)),
    T("analytics.raw.stripe_disputes", "dispute",
      "Chargebacks and inquiries opened by card issuers against Stripe charges, with reason "
      "code and evidence deadline.",
      "dispute_id charge_id amount currency dispute_reason dispute_status evidence_due_by "
      "created_at _loaded_at", terms=("chargeback",)),
    T("analytics.raw.stripe_payouts", "payout",
      "Transfers of settled Stripe balance to Acme's bank account, used to reconcile cash.",
      "payout_id amount currency payout_status arrival_date bank_last4 created_at _loaded_at"),
    T("analytics.raw.netsuite_gl_entries", "general ledger entry",
      "General ledger lines exported nightly from NetSuite: account, department, debit and "
      "credit amounts and posting period.",
      "gl_entry_id journal_id account_number account_name subsidiary department_code "
      "debit_amount credit_amount currency posting_period posted_at memo _loaded_at",
      tags=("sox",), terms=("general-ledger",)),
    T("analytics.raw.netsuite_invoices", "vendor invoice",
      "Accounts-payable invoices received from vendors and their payment status in NetSuite.",
      "invoice_id invoice_number vendor_id invoice_status amount currency due_date paid_at "
      "memo _loaded_at", tags=("sox",)),
    T("analytics.raw.netsuite_vendors", "vendor",
      "Vendor master records from NetSuite with tax identifiers, remittance addresses and "
      "payment terms.",
      "vendor_id vendor_name tax_id contact_email remit_address payment_terms_days is_active "
      "_loaded_at", terms=("supplier",)),
    T("analytics.raw.workday_employees", "employee",
      "Worker records from the Workday HCM report RPT_ALL_WORKERS, including personal contact "
      "details, national identifier, job, manager and employment dates.",
      "employee_id worker_type first_name last_name work_email personal_email phone "
      "date_of_birth national_id home_address department_id job_title manager_id location "
      "hire_date termination_date employment_status _loaded_at",
      sensitivity="restricted", terms=("headcount",)),
    T("analytics.raw.workday_compensation", "compensation change",
      "Compensation history from Workday: base salary, bonus target and the reason for each "
      "change (merit, promotion, market adjustment).",
      "compensation_id employee_id effective_date base_salary bonus_target_percent currency "
      "pay_frequency change_reason _loaded_at", sensitivity="restricted"),
    T("analytics.raw.workday_departments", "department",
      "Supervisory organisations from Workday with cost centre and department head.",
      "department_id department_name cost_center parent_department_id head_employee_id "
      "_loaded_at"),
)
