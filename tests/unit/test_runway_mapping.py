import logging

import httpx
import pytest
import runwayml

from studio.runway import RedactSecrets, avatar_reference, map_error


def status_error(cls, status, body):
    request = httpx.Request("POST", "http://127.0.0.1/v1/realtime_sessions")
    response = httpx.Response(status, json=body, request=request)
    return cls(f"Error code: {status}", response=response, body=body)


@pytest.mark.parametrize("error, code, status", [
    (status_error(runwayml.AuthenticationError, 401, {"error": "bad key"}), "bad_api_key", 502),
    (status_error(runwayml.PermissionDeniedError, 403, {"error": "no"}), "permission_denied", 403),
    (status_error(runwayml.NotFoundError, 404, {"error": "Avatar not found"}), "not_found", 404),
    (status_error(runwayml.ConflictError, 409, {"error": "processing"}), "conflict", 409),
    (status_error(runwayml.RateLimitError, 429, {"error": "Daily limit reached"}), "daily_cap", 429),
    (status_error(runwayml.RateLimitError, 429, {"error": "slow down"}), "rate_limited", 429),
    (status_error(runwayml.InternalServerError, 503, {"error": "down"}), "upstream_down", 502),
    (status_error(runwayml.BadRequestError, 400, {"error": "You do not have enough credits to run this task."}),
     "no_credits", 403),
    (status_error(runwayml.BadRequestError, 400, {"error": "Validation of body failed"}), "invalid_request", 400),
    (runwayml.APITimeoutError(request=httpx.Request("GET", "http://127.0.0.1")), "upstream_timeout", 504),
    (runwayml.APIConnectionError(request=httpx.Request("GET", "http://127.0.0.1")), "upstream_unreachable", 502),
])
def test_sdk_errors_become_plain_words_with_stable_codes(error, code, status):
    mapped = map_error(error)
    assert (mapped.code, mapped.status) == (code, status)
    assert mapped.message and "Error code" not in mapped.message


def test_avatar_reference_tells_presets_from_custom():
    assert avatar_reference("cat-character") == {"type": "runway-preset", "presetId": "cat-character"}
    assert avatar_reference("0b6c4f43-9d39-4d7e-8f4e-1f2a3b4c5d6e")["type"] == "custom"


def test_log_redaction_blanks_keys_and_bearer_tokens():
    record = logging.LogRecord("runwayml", logging.DEBUG, __file__, 1, "headers %s",
                               ({"Authorization": "Bearer stk_abc.def", "x": "key_" + "ab" * 64},), None)
    RedactSecrets().filter(record)
    assert "stk_abc" not in record.getMessage() and "abab" not in record.getMessage()
    assert "[redacted]" in record.getMessage()
