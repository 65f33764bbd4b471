from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    # Replaced by the registry-driven version in officeapp/health (database, layer, blobs, worker).
    return JsonResponse({"status": "ok"})
