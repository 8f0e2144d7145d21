import json

from django.http import HttpResponse

CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
MESSAGES = {
    400: "请求无效 (bad request)",
    403: "无权访问 (forbidden)",
    404: "未找到 (not found)",
    405: "不支持该请求方法 (method not allowed)",
    413: "请求体过大 (request too large)",
}


class ApiErrorShapeMiddleware:
    """Errors that Django or ninja answer before our handlers run (an unknown /api/ path, a method the
    route does not take) still leave the API in the one shape {"message", "code", "extra"}."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            body = {"message": MESSAGES.get(status, "请求失败 (request failed)"), "code": CODES.get(status, "error"),
                    "extra": {}}
            if status == 405 and response.has_header("Allow"):
                body["extra"] = {"allow": [m.strip() for m in response["Allow"].split(",")]}
            shaped = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                                  content_type="application/json; charset=utf-8")
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
