from django.urls import path

from field import views

urlpatterns = [
    path("imports/", views.imports, name="field-imports"),
    path("imports/<int:pk>/", views.import_run, name="field-import-run"),
    path("imports/<int:pk>/progress.json", views.import_progress, name="field-import-progress"),
    path("imports/<int:pk>/problems.csv", views.import_problems_csv, name="field-import-problems"),
    path("funnel/", views.funnel_page, name="field-funnel"),
    path("funnel/households.geojson", views.funnel_households, name="field-funnel-households"),
    path("funnel/reconcile/", views.funnel_reconcile, name="field-funnel-reconcile"),
    path("reviews/", views.reviews, name="field-reviews"),
    path("reviews/<int:pk>/decide/", views.review_decide_view, name="field-review-decide"),
]
