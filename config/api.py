"""The one API router: every resource of DESIGN section 6 under /api/v1/."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls
