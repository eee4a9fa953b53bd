from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url, parameter, accepted",
    [
        ("/api/v1/offerings/?unit=furlongs", "unit", "mtok, mwords"),
        ("/api/v1/offerings/?currency=XYZ", "currency", "USD"),
        ("/api/v1/offerings/?currency=dollars", "currency", "3"),
        ("/api/v1/offerings/?ratio=three", "ratio", "3:1"),
        ("/api/v1/offerings/?ratio=0:0", "ratio", "3:1"),
        ("/api/v1/offerings/?as_of=yesterday", "as_of", "YYYY-MM-DD"),
        ("/api/v1/offerings/?as_of=2025-02-30", "as_of", "YYYY-MM-DD"),
        ("/api/v1/offerings/?ordering=price", "ordering", "blended"),
        ("/api/v1/offerings/?limit=0", "limit", "1"),
        ("/api/v1/offerings/?limit=5000", "limit", "1000"),
        ("/api/v1/offerings/?offset=-1", "offset", "0"),
        ("/api/v1/offerings/?min_context=lots", "min_context", "integer"),
        ("/api/v1/offerings/?mode=cheap", "mode", "standard"),
        ("/api/v1/offerings/?format=xml", "format", "json"),
        ("/api/v1/offerings/1/?unit=x", "unit", "mtok"),
        ("/api/v1/prices/?component=images", "component", "input"),
        ("/api/v1/prices/?ordering=cost", "ordering", "amount"),
        ("/api/v1/changes/?ordering=when", "ordering", "changed_at"),
        ("/api/v1/providers/?limit=-3", "limit", "1"),
        ("/api/v1/estimate/?input_tokens=-5", "input_tokens", "0"),
        ("/api/v1/estimate/?input_tokens=99999999999999", "input_tokens", "10000000000"),
        ("/api/v1/estimate/?output_tokens=many", "output_tokens", "integer"),
        ("/api/v1/estimate/", "input_tokens", "text"),
        ("/api/v1/estimate/?input_tokens=10&mode=fast", "mode", "priority"),
    ],
)
def test_it_answers_bad_input_with_a_400_naming_the_parameter(api, url, parameter, accepted):
    response = api.get(url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert parameter in body
    assert accepted in " ".join(body[parameter])


def test_it_answers_errors_in_json_even_when_csv_was_asked(api):
    response = api.get("/api/v1/offerings/?format=csv&unit=x")

    assert response.status_code == 400
    assert response.json() == {"unit": ['"x" is not accepted; accepted values: mtok, mwords.']}


def test_it_rejects_a_post_estimate_that_is_not_an_object(api):
    response = api.post("/api/v1/estimate/", [1, 2], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_it_is_read_only(api):
    assert api.post("/api/v1/offerings/", {}, format="json").status_code == 405
    assert api.delete("/api/v1/providers/").status_code == 405


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/api/v1/sources/?kind=", "kind"),
        ("/api/v1/sources/?enabled=", "enabled"),
        ("/api/v1/models/?creator=", "creator"),
        ("/api/v1/providers/?q=", "q"),
    ],
)
def test_it_refuses_an_empty_catalogue_filter_naming_it(api, path, parameter):
    response = api.get(path)
    assert response.status_code == 400
    assert parameter in response.json()
