-- singular test: the back office should not export negative amounts (one returned order has)
{{ config(severity='warn') }}
select * from {{ ref('stg_orders') }} where amount < 0
