"""The sales API as OpenAPI describes it: every operation listed, with Bearer security and its errors."""

from __future__ import annotations

from django.test import Client

API = "/api/v1"
FOUNDATION_TAGS = {
    "accounts",
    "contacts",
    "companies",
    "notes",
    "tags",
    "timeline",
    "search",
    "event-types",
    "subscription types",
    "consents",
}


def test_openapi_lists_every_sales_operation_with_security_and_errors(db):
    schema = Client().get(f"{API}/openapi.json").json()
    operations = {
        (method.upper(), path.removeprefix(API)): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if not set(op.get("tags", [])) & (FOUNDATION_TAGS | {"touchpoints"})
    }

    assert {key: op["operationId"] for key, op in operations.items()} == {
        ("GET", "/activities"): "activity_list",
        ("POST", "/activities"): "activity_create",
        ("DELETE", "/activities/{activity_id}"): "activity_delete",
        ("GET", "/activities/{activity_id}"): "activity_get",
        ("PATCH", "/activities/{activity_id}"): "activity_update",
        ("POST", "/activities/{activity_id}/complete"): "activity_complete",
        ("POST", "/activities/{activity_id}/reopen"): "activity_reopen",
        ("POST", "/assignment-preview"): "assignment_preview",
        ("GET", "/assignment-rules"): "assignment_rule_list",
        ("POST", "/assignment-rules"): "assignment_rule_create",
        ("POST", "/assignment-rules/order"): "assignment_rule_reorder",
        ("DELETE", "/assignment-rules/{assignment_rule_id}"): "assignment_rule_delete",
        ("GET", "/assignment-rules/{assignment_rule_id}"): "assignment_rule_get",
        ("PATCH", "/assignment-rules/{assignment_rule_id}"): "assignment_rule_update",
        ("GET", "/assignment-settings"): "assignment_settings_get",
        ("PUT", "/assignment-settings"): "assignment_settings_update",
        ("GET", "/calendar-feed"): "calendar_feed_get",
        ("POST", "/calendar-feed/rotate"): "calendar_feed_rotate",
        ("GET", "/deals"): "deal_list",
        ("POST", "/deals"): "deal_create",
        ("DELETE", "/deals/{deal_id}"): "deal_delete",
        ("GET", "/deals/{deal_id}"): "deal_get",
        ("PATCH", "/deals/{deal_id}"): "deal_update",
        ("GET", "/deals/{deal_id}/line-items"): "deal_line_item_list",
        ("PUT", "/deals/{deal_id}/line-items"): "deal_line_items_set",
        ("POST", "/deals/{deal_id}/move"): "deal_move",
        ("POST", "/deals/{deal_id}/reassign"): "deal_reassign",
        ("GET", "/effectiveness"): "effectiveness_get",
        ("GET", "/exchange-rates"): "exchange_rate_list",
        ("POST", "/exchange-rates"): "exchange_rate_create",
        ("DELETE", "/exchange-rates/{exchange_rate_id}"): "exchange_rate_delete",
        ("GET", "/exchange-rates/{exchange_rate_id}"): "exchange_rate_get",
        ("PATCH", "/exchange-rates/{exchange_rate_id}"): "exchange_rate_update",
        ("GET", "/follow-up-rules"): "follow_up_rule_list",
        ("POST", "/follow-up-rules"): "follow_up_rule_create",
        ("DELETE", "/follow-up-rules/{follow_up_rule_id}"): "follow_up_rule_delete",
        ("GET", "/follow-up-rules/{follow_up_rule_id}"): "follow_up_rule_get",
        ("PATCH", "/follow-up-rules/{follow_up_rule_id}"): "follow_up_rule_update",
        ("GET", "/forecast"): "forecast_get",
        ("POST", "/leads/{lead_id}/assign"): "lead_assign",
        ("POST", "/leads/{lead_id}/convert"): "lead_convert",
        ("GET", "/lost-reasons"): "lost_reason_list",
        ("POST", "/lost-reasons"): "lost_reason_create",
        ("DELETE", "/lost-reasons/{lost_reason_id}"): "lost_reason_delete",
        ("GET", "/lost-reasons/{lost_reason_id}"): "lost_reason_get",
        ("PATCH", "/lost-reasons/{lost_reason_id}"): "lost_reason_update",
        ("GET", "/orders"): "order_list",
        ("POST", "/orders"): "order_create",
        ("GET", "/orders/{order_id}"): "order_get",
        ("POST", "/orders/{order_id}/status"): "order_set_status",
        ("GET", "/out-of-office"): "out_of_office_list",
        ("POST", "/out-of-office"): "out_of_office_create",
        ("DELETE", "/out-of-office/{out_of_office_id}"): "out_of_office_delete",
        ("GET", "/out-of-office/{out_of_office_id}"): "out_of_office_get",
        ("PATCH", "/out-of-office/{out_of_office_id}"): "out_of_office_update",
        ("GET", "/pipelines"): "pipeline_list",
        ("POST", "/pipelines"): "pipeline_create",
        ("DELETE", "/pipelines/{pipeline_id}"): "pipeline_delete",
        ("GET", "/pipelines/{pipeline_id}"): "pipeline_get",
        ("PATCH", "/pipelines/{pipeline_id}"): "pipeline_update",
        ("GET", "/pipelines/{pipeline_id}/board"): "pipeline_board",
        ("DELETE", "/price-list-items/{price_list_item_id}"): "price_list_item_delete",
        ("GET", "/price-list-items/{price_list_item_id}"): "price_list_item_get",
        ("PATCH", "/price-list-items/{price_list_item_id}"): "price_list_item_update",
        ("GET", "/price-lists"): "price_list_list",
        ("POST", "/price-lists"): "price_list_create",
        ("DELETE", "/price-lists/{price_list_id}"): "price_list_delete",
        ("GET", "/price-lists/{price_list_id}"): "price_list_get",
        ("PATCH", "/price-lists/{price_list_id}"): "price_list_update",
        ("GET", "/price-lists/{price_list_id}/items"): "price_list_item_list",
        ("POST", "/price-lists/{price_list_id}/items"): "price_list_item_create",
        ("GET", "/products"): "product_list",
        ("POST", "/products"): "product_create",
        ("DELETE", "/products/{product_id}"): "product_delete",
        ("GET", "/products/{product_id}"): "product_get",
        ("PATCH", "/products/{product_id}"): "product_update",
        ("GET", "/quotas"): "quota_list",
        ("POST", "/quotas"): "quota_set",
        ("DELETE", "/quotas/{quota_id}"): "quota_delete",
        ("GET", "/quotas/{quota_id}"): "quota_get",
        ("PATCH", "/quotas/{quota_id}"): "quota_update",
        ("GET", "/quotes"): "quote_list",
        ("POST", "/quotes"): "quote_create",
        ("DELETE", "/quotes/{quote_id}"): "quote_delete",
        ("GET", "/quotes/{quote_id}"): "quote_get",
        ("PATCH", "/quotes/{quote_id}"): "quote_update",
        ("POST", "/quotes/{quote_id}/accept"): "quote_accept",
        ("POST", "/quotes/{quote_id}/decline"): "quote_decline",
        ("POST", "/quotes/{quote_id}/send"): "quote_send",
        ("POST", "/stages"): "stage_create",
        ("DELETE", "/stages/{stage_id}"): "stage_delete",
        ("GET", "/stages/{stage_id}"): "stage_get",
        ("PATCH", "/stages/{stage_id}"): "stage_update",
        ("GET", "/zones"): "zone_list",
        ("POST", "/zones"): "zone_create",
        ("DELETE", "/zones/{zone_id}"): "zone_delete",
        ("GET", "/zones/{zone_id}"): "zone_get",
        ("PATCH", "/zones/{zone_id}"): "zone_update",
    }
    for key, op in operations.items():
        assert op["security"] == [{"OrgAuth": []}], key
        assert "422" in op["responses"], key
        assert "401" in op["responses"], key
