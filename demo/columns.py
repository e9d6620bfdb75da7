"""Column lexicon of the Acme Outfitters demo catalog, part one: the columns of the source
systems (storefront, payments, fulfilment, purchasing, support); `demo.analytics_columns` has
the rest, and `COLUMNS` (there) every column name a demo table uses.

Types are PostgreSQL dialect (translated per platform by `demo.generator`); `{entity}` in a
description is replaced by the entity noun of the table the column belongs to. `pii` names a
value of the `classification/pii` scheme, `term` a glossary term slug.
"""

from __future__ import annotations

from typing import NamedTuple


class ColumnDef(NamedTuple):
    sql_type: str
    description: str
    pii: str | None = None
    term: str | None = None


C = ColumnDef
TS = "TIMESTAMP"
MONEY = "NUMERIC(12,2)"
ID = "BIGINT"

SOURCE_COLUMNS: dict[str, ColumnDef] = {
    # --- keys -------------------------------------------------------------------------------
    "customer_id": C(ID, "Identifier of the customer account (shop.public.customers)."),
    "address_id": C(ID, "Identifier of the address book entry."),
    "billing_address_id": C(ID, "Address the payment method is registered to."),
    "shipping_address_id": C(ID, "Address the parcel is delivered to."),
    "category_id": C(ID, "Identifier of the merchandising category."),
    "parent_category_id": C(ID, "Parent category in the tree; null for top-level departments."),
    "product_id": C(ID, "Identifier of the product (style), shared by all its sizes and colours."),
    "variant_id": C(ID, "Identifier of the purchasable size/colour variant of a product."),
    "warehouse_id": C("INTEGER", "Fulfilment centre or store holding the stock."),
    "inventory_id": C(ID, "Surrogate key of the stock record."),
    "cart_id": C(ID, "Identifier of the shopping cart."),
    "cart_item_id": C(ID, "Surrogate key of the cart line."),
    "order_id": C(ID, "Identifier of the storefront order (shop.public.orders)."),
    "order_item_id": C(ID, "Identifier of the order line."),
    "payment_id": C(ID, "Identifier of the payment attempt."),
    "refund_id": C(ID, "Identifier of the refund."),
    "return_id": C(ID, "Identifier of the return merchandise authorisation (RMA)."),
    "shipment_id": C(ID, "Identifier of the parcel shipment."),
    "review_id": C(ID, "Identifier of the product review."),
    "promotion_id": C(ID, "Identifier of the promotion or coupon campaign."),
    "redemption_id": C(ID, "Surrogate key of the coupon redemption."),
    "loyalty_account_id": C(ID, "Identifier of the Acme Rewards membership."),
    "gift_card_id": C(ID, "Surrogate key of the gift card."),
    "supplier_id": C(ID, "Identifier of the supplier.", term="supplier"),
    "purchase_order_id": C(ID, "Identifier of the purchase order.", term="purchase-order"),
    "ticket_id": C(ID, "Identifier of the support ticket."),
    "comment_id": C(ID, "Identifier of the ticket message."),
    "agent_id": C("INTEGER", "Identifier of the support agent."),
    "assignee_id": C("INTEGER", "Support agent currently responsible for the ticket."),
    "author_id": C(ID, "Agent or customer who wrote the message."),
    "survey_id": C(ID, "Identifier of the satisfaction survey."),
    "sla_policy_id": C("INTEGER", "Identifier of the SLA policy."),
    "charge_id": C("VARCHAR(32)", "Stripe charge identifier (ch_...)."),
    "payment_intent_id": C("VARCHAR(32)", "Stripe PaymentIntent the charge belongs to (pi_...)."),
    "customer_reference": C("VARCHAR(32)", "Stripe customer object id (cus_...), not the "
                            "storefront customer id."),
    "dispute_id": C("VARCHAR(32)", "Stripe dispute identifier (dp_...)."),
    "payout_id": C("VARCHAR(32)", "Stripe payout identifier (po_...)."),
    "gl_entry_id": C(ID, "Identifier of the general ledger line."),
    "journal_id": C(ID, "Journal entry that groups balanced debit and credit lines."),
    "invoice_id": C(ID, "Identifier of the vendor invoice."),
    "vendor_id": C(ID, "NetSuite vendor internal id."),
    "employee_id": C("VARCHAR(12)", "Workday employee id (e.g. E004211)."),
    "manager_id": C("VARCHAR(12)", "Employee id of the direct manager."),
    "head_employee_id": C("VARCHAR(12)", "Employee id of the department head."),
    "compensation_id": C(ID, "Identifier of the compensation change event."),
    "department_id": C("VARCHAR(12)", "Workday supervisory organisation id."),
    "parent_department_id": C("VARCHAR(12)", "Department this one reports into."),
    "campaign_id": C("VARCHAR(32)", "Ad platform identifier of the paid media campaign."),
    "ad_group_id": C("VARCHAR(32)", "Ad platform identifier of the ad group or ad set."),
    "session_id": C("VARCHAR(36)", "Identifier of the browsing session from the first-party "
                    "tag.", term="session"),
    "anonymous_id": C("VARCHAR(36)", "Cookie identifier of the browser, stable across "
                      "sessions until cookies are cleared."),
    "page_view_id": C("VARCHAR(36)", "Identifier of the page view."),
    "event_id": C("VARCHAR(36)", "Identifier of the tracked event."),
    "subscriber_id": C(ID, "Identifier of the e-mail subscriber."),
    "email_campaign_id": C(ID, "Identifier of the e-mail send."),
    "email_event_id": C(ID, "Identifier of the e-mail engagement event."),
    "touchpoint_id": C("VARCHAR(36)", "Identifier of the marketing touchpoint."),
    "experiment_id": C("VARCHAR(24)", "Identifier of the A/B test (e.g. exp-checkout-2026-07)."),
    "assignment_id": C(ID, "Surrogate key of the variant assignment."),
    "purchaser_customer_id": C(ID, "Customer who bought the gift card, if signed in."),
    # --- people and contact details ---------------------------------------------------------
    "email": C("VARCHAR(255)", "E-mail address of the {entity}, used for login, receipts and "
               "marketing.", pii="email"),
    "first_name": C("VARCHAR(100)", "Given name of the {entity}.", pii="name"),
    "last_name": C("VARCHAR(100)", "Family name of the {entity}.", pii="name"),
    "full_name": C("VARCHAR(201)", "First and last name joined with a space.", pii="name"),
    "phone": C("VARCHAR(32)", "Phone number in E.164 format, used for delivery notifications.",
               pii="phone"),
    "date_of_birth": C("DATE", "Date of birth, used for age verification and birthday offers.",
                       pii="date-of-birth"),
    "gender": C("VARCHAR(16)", "Self-reported gender; optional and null for most accounts."),
    "recipient_name": C("VARCHAR(200)", "Name printed on the parcel label.", pii="name"),
    "street_line1": C("VARCHAR(255)", "First line of the street address (house number and "
                      "street).", pii="address"),
    "street_line2": C("VARCHAR(255)", "Apartment, suite or floor.", pii="address"),
    "city": C("VARCHAR(100)", "City or town of the {entity}."),
    "region": C("VARCHAR(100)", "State, province or county of the {entity}."),
    "postal_code": C("VARCHAR(16)", "ZIP or postal code of the address.", pii="address"),
    "billing_postal_code": C("VARCHAR(16)", "Postal code entered for card address "
                             "verification (AVS).", pii="address"),
    "country_code": C("CHAR(2)", "ISO 3166-1 alpha-2 country code of the {entity}."),
    "ip_address": C("INET", "Client IP address observed for the {entity}, used for fraud "
                    "checks and geolocation.", pii="ip-address"),
    "user_agent": C("TEXT", "Browser or app user-agent string."),
    "contact_name": C("VARCHAR(200)", "Name of the main contact person at the supplier.",
                      pii="name"),
    "contact_email": C("VARCHAR(255)", "E-mail address of the supplier or vendor contact.",
                       pii="email"),
    "contact_phone": C("VARCHAR(32)", "Phone number of the supplier contact.", pii="phone"),
    "recipient_email": C("VARCHAR(255)", "E-mail address the gift card was sent to.",
                         pii="email"),
    "requester_email": C("VARCHAR(255)", "E-mail address of the person who raised the ticket.",
                         pii="email"),
    "requester_name": C("VARCHAR(200)", "Display name of the person who raised the ticket.",
                        pii="name"),
    "agent_name": C("VARCHAR(200)", "Full name of the support agent.", pii="name"),
    "agent_email": C("VARCHAR(255)", "Work e-mail of the support agent.", pii="email"),
    "billing_email": C("VARCHAR(255)", "E-mail entered in the Stripe checkout form.",
                       pii="email"),
    "owner_email": C("VARCHAR(255)", "E-mail of the employee responsible for the {entity}.",
                     pii="email"),
    "work_email": C("VARCHAR(255)", "Corporate e-mail address (@acme-outfitters.com).",
                    pii="email"),
    "personal_email": C("VARCHAR(255)", "Private e-mail address given at onboarding.",
                        pii="email"),
    "national_id": C("VARCHAR(32)", "Social security or national insurance number, stored "
                     "for payroll.", pii="government-id"),
    "home_address": C("TEXT", "Home address of the employee as one formatted string.",
                      pii="address"),
    "tax_id": C("VARCHAR(32)", "Tax identification number (EIN, VAT or, for sole traders, "
                "SSN) of the vendor.", pii="government-id"),
    "remit_address": C("TEXT", "Address to which payments are remitted.", pii="address"),
    "card_last4": C("CHAR(4)", "Last four digits of the payment card.", pii="payment-card"),
    "card_fingerprint": C("VARCHAR(32)", "Stripe fingerprint that identifies the same card "
                          "across payments.", pii="payment-card"),
    # --- timestamps -------------------------------------------------------------------------
    "created_at": C(TS, "When the {entity} record was created in the source system (UTC)."),
    "updated_at": C(TS, "When the {entity} record was last modified (UTC)."),
    "deleted_at": C(TS, "When the account was closed; null for open accounts (soft delete)."),
    "launched_at": C(TS, "When the product went live on the storefront."),
    "discontinued_at": C(TS, "When the product was withdrawn from sale, if it was."),
    "opened_at": C("DATE", "Date the warehouse started shipping orders."),
    "last_counted_at": C(TS, "Time of the last physical stock count."),
    "abandoned_at": C(TS, "When the cart was marked abandoned after 24 hours of inactivity."),
    "converted_at": C(TS, "When the cart became an order."),
    "added_at": C(TS, "When the item was added to the cart."),
    "removed_at": C(TS, "When the item was removed from the cart, if it was."),
    "placed_at": C(TS, "When the customer submitted the order at checkout (UTC)."),
    "authorized_at": C(TS, "When the card issuer authorised the payment."),
    "captured_at": C(TS, "When the payment was captured, usually at shipment."),
    "processed_at": C(TS, "When the refund was sent to the payment provider."),
    "shipped_at": C(TS, "When the carrier scanned the parcel at pickup."),
    "estimated_delivery_at": C(TS, "Delivery date promised to the customer at checkout."),
    "delivered_at": C(TS, "When the carrier confirmed delivery."),
    "requested_at": C(TS, "When the customer requested the return."),
    "received_at": C(TS, "When the goods arrived at the warehouse."),
    "resolved_at": C(TS, "When the {entity} was closed with a refund, exchange or rejection."),
    "starts_at": C(TS, "Start of the validity window of the {entity}."),
    "ends_at": C(TS, "End of the validity window of the {entity}; null if open-ended."),
    "redeemed_at": C(TS, "When the code was applied at checkout."),
    "tier_expires_at": C("DATE", "Date the current loyalty tier lapses unless requalified."),
    "enrolled_at": C(TS, "When the customer joined the loyalty programme."),
    "issued_at": C(TS, "When the gift card was sold."),
    "expires_at": C("DATE", "Date after which the gift card balance can no longer be used."),
    "ordered_at": C(TS, "When the purchase order was sent to the supplier."),
    "expected_at": C("DATE", "Delivery date confirmed by the supplier."),
    "first_response_at": C(TS, "Time of the first public reply by an agent."),
    "solved_at": C(TS, "When the ticket was marked solved."),
    "hired_at": C("DATE", "Start date of the agent in the support team."),
    "sent_at": C(TS, "When the {entity} was sent."),
    "responded_at": C(TS, "When the customer answered the survey."),
    "evidence_due_by": C(TS, "Deadline to submit evidence to the card issuer."),
    "arrival_date": C("DATE", "Date the payout is expected in the bank account."),
    "posted_at": C(TS, "When the journal entry was posted to the ledger."),
    "due_date": C("DATE", "Date payment of the invoice is due under the vendor's terms."),
    "paid_at": C(TS, "When the invoice was paid; null while open."),
    "hire_date": C("DATE", "First day of employment."),
    "termination_date": C("DATE", "Last day of employment; null for current employees."),
    "effective_date": C("DATE", "Date the compensation change took effect."),
    "subscribed_at": C(TS, "When the address opted in to e-mail marketing."),
    "unsubscribed_at": C(TS, "When the address opted out; null while subscribed."),
    "viewed_at": C(TS, "When the page was rendered."),
    "event_at": C(TS, "When the event happened, from the client clock corrected to UTC."),
    "session_start_at": C(TS, "Timestamp of the first hit of the session."),
    "session_end_at": C(TS, "Timestamp of the last hit of the session."),
    "assigned_at": C(TS, "When the customer was bucketed into a variant."),
    "touchpoint_at": C(TS, "When the touchpoint occurred."),
    "_loaded_at": C(TS, "When the loader wrote this row into the warehouse (UTC)."),
    "_batch_id": C("VARCHAR(36)", "Identifier of the load batch, for replaying or deleting a "
                   "faulty load."),
    # --- customers, catalogue, inventory ----------------------------------------------------
    "marketing_opt_in": C("BOOLEAN", "Whether the customer consented to marketing e-mails."),
    "loyalty_tier": C("VARCHAR(16)", "Acme Rewards tier: none, trail, summit or peak.",
                      term="loyalty-program"),
    "signup_channel": C("VARCHAR(32)", "Where the account was created: web, ios, android, "
                        "store or checkout-guest conversion."),
    "address_type": C("VARCHAR(16)", "Whether the address is used for billing, shipping or "
                      "both."),
    "is_default": C("BOOLEAN", "True for the customer's default address."),
    "category_name": C("VARCHAR(100)", "Display name of the category, e.g. Rain Jackets."),
    "category_path": C("VARCHAR(500)", "Full path from the root, e.g. Outerwear > Jackets > "
                       "Rain Jackets."),
    "department": C("VARCHAR(50)", "Top-level merchandising department (Men, Women, Kids, "
                    "Gear, Footwear)."),
    "sort_order": C("INTEGER", "Position of the category in site navigation."),
    "is_active": C("BOOLEAN", "Whether the {entity} is currently active."),
    "sku": C("VARCHAR(32)", "Stock keeping unit code printed on labels and used by the WMS.",
             term="sku"),
    "product_name": C("VARCHAR(255)", "Customer-facing product name, e.g. Ridgeline 2L Rain "
                      "Jacket."),
    "brand": C("VARCHAR(100)", "Brand of the product: Acme own label or a partner brand."),
    "description": C("TEXT", "Marketing copy shown on the product detail page."),
    "list_price": C(MONEY, "Regular selling price before discounts, in the store currency."),
    "cost_price": C(MONEY, "Landed unit cost paid to the supplier, including freight and "
                    "duty.", term="cost-of-goods-sold"),
    "currency": C("CHAR(3)", "ISO 4217 currency code of the monetary amounts."),
    "size": C("VARCHAR(16)", "Size label, e.g. S, M, L, 42 or 10.5."),
    "color": C("VARCHAR(50)", "Colour name as merchandised, e.g. Moss Green."),
    "material": C("VARCHAR(100)", "Main fabric or material, e.g. recycled nylon."),
    "weight_grams": C("INTEGER", "Shipping weight of the {entity} in grams."),
    "barcode": C("VARCHAR(14)", "EAN-13 or UPC-A barcode of the variant."),
    "warehouse_code": C("VARCHAR(8)", "Short code of the warehouse, e.g. RNO1 or LHR2."),
    "warehouse_name": C("VARCHAR(100)", "Name of the fulfilment centre or store."),
    "capacity_units": C("INTEGER", "Storage capacity in pallet positions."),
    "quantity_on_hand": C("INTEGER", "Units physically in the warehouse.", term="inventory"),
    "quantity_reserved": C("INTEGER", "Units allocated to open orders but not yet picked."),
    "quantity_available": C("INTEGER", "Units available to sell: on hand minus reserved.",
                            term="inventory"),
    "reorder_point": C("INTEGER", "Available stock level that triggers replenishment."),
    "reorder_quantity": C("INTEGER", "Units ordered from the supplier when replenishing."),
    "gross_margin_pct": C("NUMERIC(5,2)", "(list price - cost) / list price, in percent.",
                          term="gross-margin"),
    # --- carts and orders -------------------------------------------------------------------
    "cart_status": C("VARCHAR(16)", "Cart state: active, abandoned or converted."),
    "item_count": C("INTEGER", "Number of units in the {entity}."),
    "cart_value": C(MONEY, "Total value of the cart at list price."),
    "quantity": C("INTEGER", "Number of units of the variant."),
    "unit_price": C(MONEY, "Price of one unit at the time of purchase, before discounts."),
    "order_number": C("VARCHAR(20)", "Human-readable order number shown to customers, e.g. "
                      "AO-2026-0048213."),
    "order_status": C("VARCHAR(20)", "Order state: pending, paid, partially_shipped, "
                      "shipped, delivered, cancelled or refunded."),
    "sales_channel": C("VARCHAR(16)", "Channel the order was placed on: web, ios, android or "
                       "kiosk."),
    "subtotal_amount": C(MONEY, "Sum of line amounts before discounts, shipping and tax."),
    "discount_amount": C(MONEY, "Discount applied to the {entity} from promotions and coupons."),
    "shipping_amount": C(MONEY, "Shipping fee charged to the customer."),
    "tax_amount": C(MONEY, "Sales tax or VAT charged on the {entity}."),
    "order_total": C(MONEY, "Amount the customer paid: subtotal - discounts + shipping + tax."),
    "coupon_code": C("VARCHAR(32)", "Promotion code entered at checkout, if any."),
    "line_total": C(MONEY, "Amount of the order line after discount, excluding tax."),
    "is_gift": C("BOOLEAN", "Whether the line was marked as a gift (prices hidden on the "
                 "packing slip)."),
    "order_date": C("DATE", "Calendar date of the order in the US/Pacific reporting zone."),
    # --- payments, refunds, disputes --------------------------------------------------------
    "payment_method": C("VARCHAR(20)", "How the customer paid: card, paypal, klarna, "
                        "apple_pay, google_pay or gift_card."),
    "payment_provider": C("VARCHAR(20)", "Payment service provider: stripe, paypal or klarna."),
    "provider_transaction_id": C("VARCHAR(64)", "Transaction reference at the payment "
                                 "provider."),
    "card_brand": C("VARCHAR(16)", "Card network: visa, mastercard, amex or discover."),
    "card_country": C("CHAR(2)", "Country that issued the card."),
    "amount": C(MONEY, "Amount of the {entity} in its currency."),
    "payment_status": C("VARCHAR(16)", "Outcome: authorized, captured, failed or voided."),
    "failure_reason": C("VARCHAR(64)", "Decline code when the payment failed, e.g. "
                        "insufficient_funds."),
    "refund_reason": C("VARCHAR(32)", "Why the money was returned: return, cancellation, "
                       "goodwill, lost_parcel or duplicate."),
    "refund_status": C("VARCHAR(16)", "Refund state: pending, succeeded or failed."),
    "processed_by": C("INTEGER", "Support agent who issued the refund."),
    "charge_status": C("VARCHAR(16)", "Stripe charge status: succeeded, pending or failed."),
    "risk_score": C("SMALLINT", "Stripe Radar risk score from 0 (safe) to 99 (very risky)."),
    "outcome_type": C("VARCHAR(24)", "Radar outcome: authorized, manual_review, "
                      "blocked or issuer_declined."),
    "dispute_reason": C("VARCHAR(32)", "Issuer reason code: fraudulent, product_not_received, "
                        "duplicate, etc."),
    "dispute_status": C("VARCHAR(24)", "Dispute state: needs_response, under_review, won or "
                        "lost."),
    "payout_status": C("VARCHAR(16)", "Payout state: pending, in_transit, paid or failed."),
    "bank_last4": C("CHAR(4)", "Last four digits of the receiving company bank account."),
    "refund_amount": C(MONEY, "Amount refunded for the return.", term="refund"),
    # --- fulfilment and returns -------------------------------------------------------------
    "carrier": C("VARCHAR(32)", "Parcel carrier, e.g. UPS, FedEx, DHL, USPS or Royal Mail."),
    "service_level": C("VARCHAR(16)", "Delivery speed purchased: standard, express or "
                       "next_day."),
    "tracking_number": C("VARCHAR(40)", "Carrier tracking number of the parcel."),
    "shipment_status": C("VARCHAR(20)", "Parcel state: label_created, in_transit, "
                         "out_for_delivery, delivered or exception."),
    "shipping_cost": C(MONEY, "Postage Acme paid the carrier for the parcel."),
    "return_reason": C("VARCHAR(32)", "Reason given for the return: too_small, too_large, "
                       "damaged, not_as_described or changed_mind."),
    "return_status": C("VARCHAR(16)", "Return state: requested, in_transit, received, "
                       "refunded or rejected."),
    "condition_grade": C("CHAR(1)", "Inspection grade of returned goods: A resellable, B "
                         "outlet, C write-off."),
    # --- reviews, promotions, loyalty, gift cards -------------------------------------------
    "rating": C("SMALLINT", "Star rating from 1 to 5."),
    "review_title": C("VARCHAR(200)", "Headline the reviewer gave the review."),
    "review_body": C("TEXT", "Free text of the review; may mention sizing, fit and quality."),
    "is_verified_purchase": C("BOOLEAN", "Whether the reviewer bought the product at Acme."),
    "helpful_votes": C("INTEGER", "How many shoppers marked the review as helpful."),
    "moderation_status": C("VARCHAR(16)", "Moderation outcome: pending, approved or rejected."),
    "promotion_code": C("VARCHAR(32)", "Code customers type at checkout, e.g. SPRING20."),
    "promotion_name": C("VARCHAR(200)", "Internal name of the promotion."),
    "promotion_type": C("VARCHAR(20)", "percent_off, amount_off, free_shipping or bogo."),
    "discount_percent": C("NUMERIC(5,2)", "Percentage discount, for percent_off promotions."),
    "minimum_order_amount": C(MONEY, "Minimum basket value for the promotion to apply."),
    "usage_limit": C("INTEGER", "Maximum number of redemptions; null for unlimited."),
    "created_by": C("VARCHAR(64)", "Login of the employee who created the {entity}."),
    "points_balance": C("INTEGER", "Loyalty points available to redeem.",
                        term="loyalty-program"),
    "points_earned_lifetime": C("INTEGER", "All points ever earned by the member."),
    "points_redeemed_lifetime": C("INTEGER", "All points ever spent by the member."),
    "gift_card_code": C("VARCHAR(19)", "Redemption code of the gift card; treat as a bearer "
                        "credential."),
    "initial_balance": C(MONEY, "Value loaded on the gift card when sold."),
    "current_balance": C(MONEY, "Remaining value of the gift card."),
    # --- suppliers and purchasing -----------------------------------------------------------
    "supplier_name": C("VARCHAR(200)", "Legal name of the supplier."),
    "payment_terms_days": C("INTEGER", "Days after invoice within which payment is due (net "
                            "terms)."),
    "lead_time_days": C("INTEGER", "Typical days from purchase order to goods received."),
    "is_preferred": C("BOOLEAN", "Whether the supplier is on the preferred vendor list."),
    "po_number": C("VARCHAR(20)", "Purchase order number quoted on supplier invoices."),
    "po_status": C("VARCHAR(16)", "draft, sent, confirmed, partially_received, received or "
                   "cancelled."),
    "total_cost": C(MONEY, "Total value of the purchase order at agreed unit costs."),
    # --- support ----------------------------------------------------------------------------
    "hours_since_placed": C("INTEGER", "Hours elapsed since the order was placed."),
    "subject": C("VARCHAR(255)", "Subject line of the ticket."),
    "channel": C("VARCHAR(20)", "Channel of the {entity}, e.g. email, chat, phone, paid_search, "
                 "social or referral."),
    "priority": C("VARCHAR(8)", "Ticket priority: low, normal, high or urgent."),
    "ticket_status": C("VARCHAR(16)", "new, open, pending, on_hold, solved or closed."),
    "group_name": C("VARCHAR(64)", "Support queue the ticket sits in, e.g. Orders & Delivery."),
    "author_role": C("VARCHAR(16)", "Whether the message came from the customer or an agent."),
    "body": C("TEXT", "Text of the message; customers often include order numbers and "
              "addresses here."),
    "is_public": C("BOOLEAN", "False for internal notes visible only to agents."),
    "team_name": C("VARCHAR(64)", "Support team of the agent, e.g. Tier 1 EMEA."),
    "agent_role": C("VARCHAR(16)", "agent, team_lead or admin."),
    "csat_score": C("SMALLINT", "Customer satisfaction answer from 1 (very unsatisfied) to 5.",
                    term="csat"),
    "survey_comment": C("TEXT", "Optional free-text comment left with the rating."),
    "policy_name": C("VARCHAR(100)", "Name of the SLA policy."),
    "first_response_target_minutes": C("INTEGER", "Target minutes until the first agent reply."),
    "resolution_target_minutes": C("INTEGER", "Target minutes until the ticket is solved."),
    "business_hours_only": C("BOOLEAN", "Whether SLA clocks pause outside business hours."),
}
