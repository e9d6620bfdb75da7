"""The demo warehouse's modelled tables: dbt staging and marts, finance and people, marketing
attribution, and the research lab, each deriving from the source and raw tables of
`demo.vocabulary` (same token syntax for columns and column lineage)."""

from __future__ import annotations

from demo.vocabulary import TableDef

T = TableDef

S = "analytics.staging."
R = "analytics.raw."
M = "analytics.marts."

STAGING_TABLES: tuple[TableDef, ...] = (
    T(S + "stg_customers", "customer",
      "Cleaned customer accounts: latest version of each account, e-mail lower-cased, full "
      "name assembled and soft-deleted accounts flagged.",
      "customer_id email first_name last_name full_name=first_name+last_name phone "
      "date_of_birth country_code signup_channel loyalty_tier marketing_opt_in created_at "
      "is_deleted=deleted_at", (R + "shop_customers",), terms=("customer",)),
    T(S + "stg_addresses", "address",
      "Customer addresses with country codes normalised to ISO 3166-1 alpha-2 and postal "
      "codes upper-cased.",
      "address_id customer_id address_type street_line1 street_line2 city region postal_code "
      "country_code is_default", (R + "shop_addresses",), terms=("customer-address",)),
    T(S + "stg_categories", "category",
      "Category tree flattened with the full path from the root department.",
      "category_id parent_category_id category_name category_path department",
      (R + "shop_categories",)),
    T(S + "stg_products", "product",
      "Products with prices cast to decimals and gross margin percentage precomputed.",
      "product_id sku product_name brand category_id list_price cost_price "
      "gross_margin_pct=list_price+cost_price is_active launched_at",
      (R + "shop_products",), terms=("product",)),
    T(S + "stg_product_variants", "product variant",
      "Sellable variants (size and colour) with their SKU and current list price.",
      "variant_id product_id sku size color list_price is_active",
      (R + "shop_product_variants",), terms=("sku",)),
    T(S + "stg_orders", "order",
      "Orders deduplicated to their latest state, with test orders from internal accounts "
      "excluded and the order date derived in the store's reporting time zone.",
      "order_id order_number customer_id order_status sales_channel currency subtotal_amount "
      "discount_amount shipping_amount tax_amount order_total coupon_code ip_address "
      "placed_at order_date=placed_at", (R + "shop_orders",), terms=("order",)),
    T(S + "stg_order_items", "order line",
      "Order lines with quantities and amounts typed; cancelled lines removed.",
      "order_item_id order_id variant_id sku quantity unit_price discount_amount line_total "
      "is_gift", (R + "shop_order_items",)),
    T(S + "stg_payments", "payment",
      "Payments normalised across Stripe, PayPal and Klarna into one method/status vocabulary; "
      "card fingerprints dropped.",
      "payment_id order_id payment_method payment_provider card_brand card_last4 amount "
      "currency payment_status failure_reason captured_at",
      (R + "shop_payments",), sensitivity="restricted"),
    T(S + "stg_refunds", "refund",
      "Refunds with reason codes mapped to the finance refund taxonomy.",
      "refund_id payment_id order_id return_id amount currency refund_reason refund_status "
      "processed_at", (R + "shop_refunds",), terms=("refund",)),
    T(S + "stg_shipments", "shipment",
      "Shipments with carrier names standardised (UPS, FedEx, DHL, USPS, Royal Mail) and "
      "delivery timestamps converted to UTC.",
      "shipment_id order_id warehouse_id carrier service_level tracking_number "
      "shipment_status shipping_cost shipped_at estimated_delivery_at delivered_at",
      (R + "shop_shipments",), terms=("fulfilment",)),
    T(S + "stg_inventory_levels", "inventory level",
      "Latest stock position per variant and warehouse.",
      "variant_id warehouse_id quantity_on_hand quantity_reserved quantity_available "
      "reorder_point updated_at", (R + "shop_inventory_levels",), terms=("inventory",)),
    T(S + "stg_reviews", "review",
      "Approved product reviews only; rejected and spam reviews are filtered out.",
      "review_id product_id customer_id rating review_title review_body is_verified_purchase "
      "moderation_status created_at", (R + "shop_reviews",)),
    T(S + "stg_returns", "return",
      "Returns with free-text reasons mapped to a fixed list (too small, too large, damaged, "
      "not as described, changed mind).",
      "return_id order_id order_item_id customer_id return_reason return_status "
      "refund_amount requested_at resolved_at", (R + "shop_returns",)),
    T(S + "stg_carts", "cart",
      "Carts with bot traffic removed, used for funnel and abandonment analysis.",
      "cart_id customer_id session_id cart_status item_count cart_value created_at "
      "abandoned_at converted_at", (R + "shop_carts",), terms=("cart-abandonment",)),
    T(S + "stg_promotions", "promotion",
      "Promotions with discount type split into percentage and fixed-amount columns.",
      "promotion_id promotion_code promotion_name promotion_type discount_percent "
      "discount_amount starts_at ends_at", (R + "shop_promotions",)),
    T(S + "stg_loyalty_accounts", "loyalty account",
      "Loyalty memberships with tier names normalised.",
      "loyalty_account_id customer_id loyalty_tier points_balance points_earned_lifetime "
      "enrolled_at", (R + "shop_loyalty_accounts",), terms=("loyalty-program",)),
    T(S + "stg_suppliers", "supplier",
      "Supplier master data without personal contact details.",
      "supplier_id supplier_name country_code payment_terms_days lead_time_days is_preferred",
      (R + "shop_suppliers",)),
    T(S + "stg_purchase_orders", "purchase order",
      "Purchase orders to suppliers with status history collapsed to the current status.",
      "purchase_order_id supplier_id warehouse_id po_number po_status total_cost ordered_at "
      "received_at", (R + "shop_purchase_orders",)),
    T(S + "stg_tickets", "ticket",
      "Support tickets linked to a customer account where the requester e-mail matches one; "
      "spam and merged tickets excluded.",
      "ticket_id customer_id order_id requester_email subject channel priority ticket_status "
      "assignee_id created_at first_response_at solved_at", (R + "helpdesk_tickets",)),
    T(S + "stg_csat_responses", "CSAT response",
      "Answered satisfaction surveys only, one per ticket.",
      "survey_id ticket_id customer_id csat_score responded_at",
      (R + "helpdesk_satisfaction_surveys",), terms=("csat",)),
    T(S + "stg_stripe_charges", "Stripe charge",
      "Stripe charges with amounts converted from minor units (cents) to decimals.",
      "charge_id payment_intent_id amount currency charge_status card_brand card_country "
      "risk_score outcome_type created_at", (R + "stripe_charges",)),
    T(S + "stg_stripe_disputes", "dispute",
      "Chargebacks with Stripe reason codes mapped to fraud, product and processing groups.",
      "dispute_id charge_id amount dispute_reason dispute_status created_at",
      (R + "stripe_disputes",), terms=("chargeback",)),
    T(S + "stg_gl_entries", "general ledger entry",
      "General ledger lines with signed net amount (debit minus credit) in USD.",
      "gl_entry_id journal_id account_number account_name department_code debit_amount "
      "credit_amount net_amount=debit_amount+credit_amount posting_period posted_at",
      (R + "netsuite_gl_entries",), tags=("sox",), terms=("general-ledger",)),
    T(S + "stg_invoices", "vendor invoice",
      "Vendor invoices with status normalised to open, paid or void.",
      "invoice_id vendor_id invoice_status amount currency due_date paid_at",
      (R + "netsuite_invoices",)),
    T(S + "stg_employees", "employee",
      "Current and former employees without personal e-mail, phone, national identifier or "
      "home address.",
      "employee_id first_name last_name work_email department_id job_title manager_id "
      "location hire_date termination_date employment_status",
      (R + "workday_employees",), sensitivity="restricted"),
    T(S + "stg_compensation", "compensation change",
      "Compensation changes with salaries annualised regardless of pay frequency.",
      "employee_id effective_date base_salary bonus_target_percent currency",
      (R + "workday_compensation",), sensitivity="restricted"),
    T(S + "stg_departments", "department",
      "Departments with their cost centre and parent organisation.",
      "department_id department_name cost_center parent_department_id",
      (R + "workday_departments",)),
)

MART_TABLES: tuple[TableDef, ...] = (
    T(M + "dim_dates", "calendar day",
      "Date spine from 2018 to 2030 with ISO weeks, Acme's fiscal calendar (fiscal year starts "
      "1 February) and US public holidays.",
      "date_day day_of_week week_start_date month_start_date fiscal_quarter fiscal_year "
      "is_holiday is_weekend", sensitivity="public", tags=("certified",)),
    T(M + "dim_customers", "customer",
      "Customer 360 dimension: one row per customer with contact e-mail, home region, loyalty "
      "tier, first and last order dates, lifetime orders and revenue, and marketing segment.",
      "customer_id email full_name country_code city=stg_addresses.city "
      "region=stg_addresses.region postal_code=stg_addresses.postal_code signup_channel "
      "loyalty_tier points_balance first_order_at=stg_orders.placed_at "
      "last_order_at=stg_orders.placed_at lifetime_orders=stg_orders.order_id "
      "lifetime_revenue=stg_orders.order_total customer_segment is_active_customer created_at",
      (S + "stg_customers", S + "stg_addresses", S + "stg_loyalty_accounts", S + "stg_orders"),
      tags=("tier-1", "certified", "customer-360"), terms=("customer", "active-customer")),
    T(M + "dim_products", "product",
      "Product dimension joining products to their category path and department, with price, "
      "unit cost and gross margin for merchandising analysis.",
      "product_id sku product_name brand category_name=stg_categories.category_name "
      "department=stg_categories.department list_price cost_price gross_margin_pct is_active "
      "launched_at", (S + "stg_products", S + "stg_categories"),
      tags=("tier-1", "certified"), terms=("product", "gross-margin")),
    T(M + "fct_orders", "order",
      "Order fact table at one row per order: gross merchandise value, discounts, net revenue "
      "after refunds, payment method and shipping milestones. The certified source for sales "
      "reporting.",
      "order_id order_number customer_id order_date order_status sales_channel currency "
      "subtotal_amount discount_amount shipping_amount tax_amount order_total "
      "gmv=order_total net_revenue=order_total+stg_refunds.amount "
      "item_count=stg_order_items.quantity payment_method=stg_payments.payment_method "
      "shipped_at=stg_shipments.shipped_at delivered_at=stg_shipments.delivered_at "
      "is_first_order",
      (S + "stg_orders", S + "stg_order_items", S + "stg_payments", S + "stg_refunds",
       S + "stg_shipments"),
      tags=("tier-1", "certified"), terms=("order", "gross-merchandise-value", "net-revenue")),
    T(M + "fct_order_items", "order line",
      "Order line fact at one row per product variant per order, with product keys and the "
      "gross margin earned on the line.",
      "order_item_id order_id customer_id=stg_orders.customer_id "
      "product_id=stg_product_variants.product_id variant_id sku "
      "order_date=stg_orders.order_date quantity unit_price discount_amount line_total "
      "gross_margin_amount=line_total+stg_products.cost_price",
      (S + "stg_order_items", S + "stg_orders", S + "stg_product_variants", S + "stg_products"),
      tags=("tier-1", "certified"), terms=("gross-margin", "sku")),
    T(M + "fct_payments", "payment",
      "Payments enriched with Stripe Radar risk scores and a dispute flag, used for fraud and "
      "payment-success monitoring.",
      "payment_id order_id payment_method payment_provider card_brand amount currency "
      "payment_status captured_at risk_score=stg_stripe_charges.risk_score "
      "outcome_type=stg_stripe_charges.outcome_type is_disputed=stg_stripe_disputes.dispute_id",
      (S + "stg_payments", S + "stg_stripe_charges", S + "stg_stripe_disputes"),
      tags=("pci",), terms=("chargeback",)),
    T(M + "fct_shipments", "shipment",
      "Shipment fact with transit time in days and an on-time flag against the promised "
      "delivery date.",
      "shipment_id order_id warehouse_id carrier service_level shipment_status shipping_cost "
      "shipped_at delivered_at days_to_deliver=shipped_at+delivered_at "
      "is_late=estimated_delivery_at+delivered_at", (S + "stg_shipments",),
      terms=("fulfilment",)),
    T(M + "fct_returns", "return",
      "Returns with the time taken to inspect and refund them.",
      "return_id order_id customer_id return_reason return_status refund_amount requested_at "
      "resolved_at days_to_resolve=requested_at+resolved_at", (S + "stg_returns",),
      terms=("return-rate", "refund")),
    T(M + "fct_inventory_daily", "inventory snapshot",
      "Daily snapshot of stock per variant and warehouse with days of supply at the trailing "
      "28-day sales rate.",
      "snapshot_date variant_id warehouse_id quantity_on_hand quantity_reserved "
      "quantity_available days_of_supply "
      "is_below_reorder_point=quantity_available+reorder_point",
      (S + "stg_inventory_levels",), tags=("daily",), terms=("inventory", "days-of-supply")),
    T(M + "fct_support_tickets", "ticket",
      "Support ticket fact with first-response and resolution times and the CSAT score the "
      "customer gave.",
      "ticket_id customer_id order_id channel priority ticket_status created_at "
      "first_response_at solved_at first_response_minutes=created_at+first_response_at "
      "resolution_hours=created_at+solved_at csat_score=stg_csat_responses.csat_score",
      (S + "stg_tickets", S + "stg_csat_responses"),
      terms=("first-response-time", "csat")),
    T(M + "fct_cart_sessions", "cart",
      "Carts with conversion and abandonment outcome, the basis of the checkout funnel.",
      "cart_id customer_id session_id cart_status item_count cart_value created_at "
      "abandoned_at converted_at is_abandoned=cart_status", (S + "stg_carts",),
      terms=("cart-abandonment", "conversion-rate")),
    T(M + "fct_product_reviews", "review",
      "Published reviews with a sentiment label predicted from the review text.",
      "review_id product_id customer_id rating is_verified_purchase "
      "sentiment_label=review_body created_at", (S + "stg_reviews",)),
    T(M + "customer_ltv", "customer",
      "Customer lifetime value: acquisition cohort, realised revenue to date and a 12-month "
      "predicted value from the BG/NBD and Gamma-Gamma models.",
      "customer_id first_order_at=fct_orders.order_date cohort_month=fct_orders.order_date "
      "lifetime_orders=fct_orders.order_id lifetime_revenue=fct_orders.net_revenue "
      "average_order_value=fct_orders.order_total predicted_ltv_12m "
      "days_since_last_order=fct_orders.order_date", (M + "fct_orders",),
      tags=("customer-360",), terms=("customer-lifetime-value", "cohort")),
    T(M + "customer_churn_features", "customer",
      "Weekly feature snapshot per customer for the churn model: recency, frequency and "
      "monetary value over 90 days, support contacts, returns and satisfaction.",
      "customer_id snapshot_date loyalty_tier=dim_customers.loyalty_tier "
      "days_since_last_order=fct_orders.order_date orders_last_90d=fct_orders.order_id "
      "revenue_last_90d=fct_orders.net_revenue "
      "support_tickets_last_90d=fct_support_tickets.ticket_id "
      "returns_last_90d=fct_returns.return_id avg_csat_score=fct_support_tickets.csat_score "
      "is_churned",
      (M + "dim_customers", M + "fct_orders", M + "fct_support_tickets", M + "fct_returns"),
      tags=("ml", "weekly"), terms=("churn",)),
    T(M + "customer_churn_scores", "churn score",
      "Churn probability per active customer written back by the daily scoring job, with a "
      "risk band used by CRM to target retention offers.",
      "customer_id score_date=snapshot_date churn_probability risk_band model_version",
      (M + "customer_churn_features",), tags=("ml", "daily"), terms=("churn",)),
    T(M + "demand_forecast_training", "product-day",
      "Training set for the demand forecast: units sold per product, warehouse and day with "
      "stock, price, promotion and holiday signals.",
      "snapshot_date=dim_dates.date_day product_id=dim_products.product_id "
      "warehouse_id=fct_inventory_daily.warehouse_id units_sold=fct_order_items.quantity "
      "quantity_on_hand=fct_inventory_daily.quantity_on_hand list_price=dim_products.list_price "
      "is_holiday=dim_dates.is_holiday is_promotion_active",
      (M + "fct_order_items", M + "fct_inventory_daily", M + "dim_products", M + "dim_dates"),
      tags=("ml",), terms=("inventory",)),
    T(M + "fraud_training_set", "payment",
      "Labelled payments for the fraud model: a payment is positive when it later received a "
      "fraud chargeback.",
      "payment_id order_id customer_id=fct_orders.customer_id amount payment_method card_brand "
      "risk_score outcome_type customer_tenure_days=dim_customers.created_at "
      "order_total=fct_orders.order_total is_first_order=fct_orders.is_first_order ip_country "
      "is_fraud=is_disputed", (M + "fct_payments", M + "fct_orders", M + "dim_customers"),
      tags=("ml", "pci"), terms=("chargeback",)),
    T(M + "v_daily_sales", "day",
      "Daily sales KPIs: orders, GMV, net revenue, average order value and unique buyers.",
      "order_date order_count=order_id gmv net_revenue average_order_value=order_total "
      "unique_customers=customer_id", (M + "fct_orders",), view=True,
      tags=("certified", "daily"), terms=("gross-merchandise-value", "average-order-value")),
    T(M + "v_weekly_gmv_by_channel", "week and channel",
      "Weekly GMV and net revenue split by sales channel (web, iOS, Android, kiosk).",
      "week_start_date=dim_dates.week_start_date sales_channel gmv net_revenue "
      "order_count=order_id", (M + "fct_orders", M + "dim_dates"), view=True,
      terms=("gross-merchandise-value",)),
    T(M + "v_active_customers", "active customer",
      "Customers with an order in the last 365 days, with their contact e-mail for CRM exports.",
      "customer_id email loyalty_tier last_order_at lifetime_orders is_active_customer",
      (M + "dim_customers",), view=True, tags=("gdpr",), terms=("active-customer",)),
    T(M + "v_top_products", "product",
      "Best-selling products of the trailing 30 days ranked by revenue, with units and margin.",
      "product_id product_name brand category_name units_sold=quantity revenue=line_total "
      "gross_margin_amount sales_rank", (M + "fct_order_items", M + "dim_products"), view=True),
    T(M + "v_cohort_retention", "cohort-month",
      "Monthly acquisition cohorts and the share of each cohort still ordering N months later.",
      "cohort_month months_since_first_order=fct_orders.order_date "
      "cohort_size=customer_ltv.customer_id active_customers=fct_orders.customer_id "
      "retention_rate", (M + "customer_ltv", M + "fct_orders"), view=True,
      terms=("cohort", "churn")),
    T(M + "v_open_tickets", "ticket",
      "Unsolved support tickets and how many hours they have been open, for the backlog board.",
      "ticket_id customer_id priority ticket_status channel created_at hours_open=created_at",
      (M + "fct_support_tickets",), view=True),
    T(M + "v_inventory_alerts", "variant and warehouse",
      "Variants at risk of stockout: available stock below the reorder point or less than "
      "14 days of supply.",
      "variant_id warehouse_id product_name=dim_products.product_name quantity_available "
      "days_of_supply is_below_reorder_point", (M + "fct_inventory_daily", M + "dim_products"),
      view=True, terms=("stockout", "days-of-supply")),
    T(M + "v_delivery_performance", "carrier-week",
      "Weekly on-time delivery rate and average transit days per carrier and service level.",
      "carrier service_level shipped_week=shipped_at shipment_count=shipment_id "
      "on_time_rate=is_late avg_days_to_deliver=days_to_deliver", (M + "fct_shipments",),
      view=True, terms=("fulfilment",)),
    T(M + "v_return_rates", "product",
      "Return rate per product and category over the last 90 days, with the most common reason.",
      "product_id category_name=dim_products.category_name units_sold=fct_order_items.quantity "
      "units_returned=fct_returns.return_id return_rate top_return_reason=return_reason",
      (M + "fct_returns", M + "fct_order_items", M + "dim_products"), view=True,
      terms=("return-rate",)),
    T(M + "v_sales_summary_legacy", "day",
      "Legacy daily sales rollup kept for the old Tableau workbook; superseded by "
      "v_daily_sales and scheduled for removal.",
      "order_date order_count=order_id order_total", (M + "fct_orders",), view=True,
      tags=("deprecated",)),
)

F = "analytics.finance."
P = "analytics.people."

FINANCE_PEOPLE_TABLES: tuple[TableDef, ...] = (
    T(F + "fct_revenue", "revenue day",
      "Daily revenue bridge by channel and currency: gross revenue, discounts, refunds, tax "
      "and shipping income, reconciling GMV to recognised net revenue.",
      "revenue_date=fct_orders.order_date sales_channel currency "
      "gross_revenue=fct_orders.gmv discounts=fct_orders.discount_amount "
      "refunds=stg_refunds.amount net_revenue=fct_orders.net_revenue "
      "tax_collected=fct_orders.tax_amount shipping_revenue=fct_orders.shipping_amount",
      (M + "fct_orders", S + "stg_refunds"), tags=("sox", "certified"),
      terms=("net-revenue", "gross-merchandise-value")),
    T(F + "fct_gl_journal", "general ledger entry",
      "Posted general ledger journal lines used for the monthly close.",
      "gl_entry_id journal_id account_number account_name department_code posting_period "
      "debit_amount credit_amount net_amount posted_at", (S + "stg_gl_entries",),
      tags=("sox",), terms=("general-ledger",)),
    T(F + "dim_accounts", "GL account",
      "Chart of accounts with account type and the financial statement line it rolls up to.",
      "account_number account_name account_type financial_statement normal_balance is_active",
      (S + "stg_gl_entries",), terms=("general-ledger",)),
    T(F + "fct_vendor_spend", "vendor invoice",
      "Accounts-payable spend per vendor invoice with days payable outstanding.",
      "vendor_id invoice_id supplier_name=stg_suppliers.supplier_name amount currency "
      "invoice_status due_date paid_at days_payable=due_date+paid_at",
      (S + "stg_invoices", S + "stg_suppliers"), terms=("supplier",)),
    T(F + "payout_reconciliation", "payout",
      "Matches each Stripe payout to the charges it settles and to captured payments, "
      "flagging unreconciled differences for the treasury team.",
      "payout_id=stripe_payouts.payout_id payout_date=stripe_payouts.arrival_date "
      "gross_amount=stg_stripe_charges.amount fee_amount "
      "payout_amount=stripe_payouts.amount captured_amount=fct_payments.amount "
      "variance_amount is_reconciled",
      (R + "stripe_payouts", S + "stg_stripe_charges", M + "fct_payments"), tags=("sox",)),
    T(F + "v_monthly_pnl", "account-month",
      "Monthly profit and loss by account type and department compared with budget.",
      "posting_period account_type=dim_accounts.account_type "
      "financial_statement=dim_accounts.financial_statement department_code "
      "amount=net_amount budget_amount variance_amount",
      (F + "fct_gl_journal", F + "dim_accounts"), view=True, tags=("sox",),
      terms=("cost-of-goods-sold", "gross-margin")),
    T(P + "dim_employees", "employee",
      "Employee dimension with department, cost centre, manager, location and tenure.",
      "employee_id full_name=first_name+last_name work_email "
      "department_name=stg_departments.department_name "
      "cost_center=stg_departments.cost_center job_title manager_id location hire_date "
      "termination_date employment_status tenure_months=hire_date",
      (S + "stg_employees", S + "stg_departments"), sensitivity="restricted",
      terms=("headcount",)),
    T(P + "fct_headcount_monthly", "department-month",
      "Month-end headcount, hires, leavers and attrition rate per department and location.",
      "month_start_date department_name location headcount=employee_id hires=hire_date "
      "terminations=termination_date attrition_rate", (P + "dim_employees",),
      terms=("headcount", "attrition")),
    T(P + "fct_compensation", "compensation change",
      "Salary and bonus target history per employee with the salary band of the job.",
      "employee_id department_name=dim_employees.department_name effective_date base_salary "
      "bonus_target_percent currency salary_band", (S + "stg_compensation", P + "dim_employees"),
      sensitivity="restricted"),
    T(P + "v_headcount_by_department", "department",
      "Current headcount and open requisitions per department for workforce planning.",
      "department_name cost_center headcount open_requisitions",
      (P + "fct_headcount_monthly", P + "dim_employees"), view=True, terms=("headcount",)),
)

A = "marketing.attribution."

MARKETING_TABLES: tuple[TableDef, ...] = (
    T("marketing.ads.campaigns", "campaign",
      "Paid media campaigns across Google Ads, Meta and TikTok with objective, daily budget "
      "and the marketer responsible.",
      "campaign_id campaign_name ad_platform objective budget_daily currency "
      "campaign_status starts_at ends_at owner_email", tags=("marketing",)),
    T("marketing.ads.ad_groups", "ad group",
      "Ad groups / ad sets inside campaigns with their audience targeting and bid strategy.",
      "ad_group_id campaign_id ad_group_name targeting_audience bid_strategy max_cpc "
      "ad_group_status", tags=("marketing",)),
    T("marketing.ads.ad_spend", "ad group-day",
      "Daily impressions, clicks, spend and platform-reported conversions per ad group.",
      "spend_date campaign_id ad_group_id ad_platform impressions clicks spend_amount "
      "currency conversions conversion_value", tags=("marketing", "daily"),
      terms=("customer-acquisition-cost",)),
    T("marketing.web.web_sessions", "web session",
      "Storefront browsing sessions from the first-party tag: device, browser, client IP, "
      "landing page, referrer and UTM campaign parameters.",
      "session_id anonymous_id customer_id ip_address user_agent device_type browser "
      "country_code landing_page referrer utm_source utm_medium utm_campaign "
      "session_start_at session_end_at page_view_count is_bounce",
      tags=("marketing",), terms=("session", "active-user")),
    T("marketing.web.page_views", "page view",
      "Every page viewed during a session, with page type and product shown.",
      "page_view_id session_id page_url page_type product_id viewed_at time_on_page_seconds",
      tags=("marketing",)),
    T("marketing.web.web_events", "web event",
      "Custom interaction events such as add_to_cart, begin_checkout and search, with a JSON "
      "payload of event properties.",
      "event_id session_id event_name event_properties product_id event_at",
      tags=("marketing", "experimental")),
    T("marketing.crm.subscribers", "subscriber",
      "Newsletter and promotional e-mail subscribers with consent status and list membership.",
      "subscriber_id email first_name customer_id subscription_status signup_source list_name "
      "subscribed_at unsubscribed_at", tags=("marketing",)),
    T("marketing.crm.email_campaigns", "e-mail campaign",
      "E-mail sends with subject line, audience segment and recipient count.",
      "email_campaign_id campaign_name subject_line segment_name send_status sent_at "
      "recipients_count", tags=("marketing",)),
    T("marketing.crm.email_events", "e-mail event",
      "Deliveries, opens, clicks, bounces and unsubscribes per recipient of an e-mail send.",
      "email_event_id email_campaign_id subscriber_id email event_type link_url ip_address "
      "user_agent event_at", tags=("marketing",)),
    T("marketing.crm.v_email_engagement", "e-mail campaign",
      "Open, click and unsubscribe rates per e-mail campaign.",
      "email_campaign_id campaign_name=email_campaigns.campaign_name "
      "sent_at=email_campaigns.sent_at recipients_count=email_campaigns.recipients_count "
      "opens=email_events.event_type clicks=email_events.event_type "
      "unsubscribes=email_events.event_type open_rate click_rate",
      ("marketing.crm.email_events", "marketing.crm.email_campaigns"), view=True,
      tags=("marketing",)),
    T(A + "conversions", "order",
      "Storefront orders pushed from the Snowflake order fact by reverse ETL so that "
      "attribution can join them with web sessions.",
      "order_id customer_id order_date order_total is_first_order",
      (M + "fct_orders",), tags=("marketing", "reverse-etl"), terms=("conversion-rate",)),
    T(A + "touchpoints", "touchpoint",
      "Marketing touchpoints (ad clicks, e-mail clicks, organic and referral visits) of "
      "customers in the 30 days before an order.",
      "touchpoint_id customer_id=web_sessions.customer_id session_id channel "
      "utm_source utm_campaign campaign_id=ad_spend.campaign_id touchpoint_at=session_start_at "
      "order_id=conversions.order_id",
      ("marketing.web.web_sessions", "marketing.ads.ad_spend", "marketing.crm.email_events",
       A + "conversions"), tags=("marketing",), terms=("attribution",)),
    T(A + "attribution_results", "order touchpoint",
      "Share of each order's revenue credited to each touchpoint under first-click, "
      "last-click, linear and data-driven attribution models.",
      "order_id touchpoint_id channel campaign_id attribution_model "
      "attributed_revenue=conversions.order_total attribution_weight",
      (A + "touchpoints", A + "conversions"), tags=("marketing", "certified"),
      terms=("attribution",)),
    T(A + "v_channel_roi", "channel-campaign",
      "Return on ad spend and cost per acquisition per channel and campaign.",
      "channel campaign_id spend_amount=ad_spend.spend_amount attributed_revenue roas "
      "cost_per_acquisition", (A + "attribution_results", "marketing.ads.ad_spend"), view=True,
      tags=("marketing",), terms=("return-on-ad-spend", "customer-acquisition-cost")),
)

RESEARCH_TABLES: tuple[TableDef, ...] = (
    T("lab.experiments.ab_tests", "experiment",
      "Registry of storefront A/B tests with hypothesis, primary metric and run window.",
      "experiment_id experiment_name hypothesis primary_metric variant_count starts_at "
      "ends_at experiment_status owner_email", tags=("experimental",)),
    T("lab.experiments.ab_assignments", "assignment",
      "Which customer saw which variant of an experiment, and when they were bucketed.",
      "assignment_id experiment_id customer_id variant_name assigned_at",
      ("lab.experiments.ab_tests",), tags=("experimental",)),
    T("lab.experiments.v_experiment_results", "experiment variant",
      "Per-variant conversion rate, revenue per customer and lift over control with p-values.",
      "experiment_id variant_name customers=customer_id conversion_rate revenue_per_customer "
      "lift_vs_control p_value", ("lab.experiments.ab_assignments",), view=True,
      tags=("experimental",), terms=("conversion-rate",)),
    T("lab.nlp.review_corpus", "labelled review",
      "Hand-labelled product reviews (positive, neutral, negative) for training the review "
      "sentiment classifier.",
      "review_id product_id rating review_body review_language sentiment_label labelled_by",
      tags=("experimental",)),
)
