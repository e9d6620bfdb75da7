select
    c.customer_id,
    c.full_name,
    coalesce(f.order_count, 0) as order_count,
    coalesce(f.lifetime_value, 0) as lifetime_value
from {{ ref('stg_customers') }} as c
left join {{ ref('order_facts') }} as f on f.customer_id = c.customer_id
