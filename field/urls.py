from django.urls import path

from field import (
    audit_views,
    campaign_views,
    gap_views,
    route_views,
    tablet_views,
    team_views,
    views,
    zone_views,
)

urlpatterns = [
    path("start/", views.start, name="field-start"),
    path("imports/", views.imports, name="field-imports"),
    path("imports/<int:pk>/", views.import_run, name="field-import-run"),
    path("imports/<int:pk>/progress.json", views.import_progress, name="field-import-progress"),
    path("imports/<int:pk>/problems.csv", views.import_problems_csv, name="field-import-problems"),
    path("funnel/", views.funnel_page, name="field-funnel"),
    path("funnel/households.geojson", views.funnel_households, name="field-funnel-households"),
    path("funnel/reconcile/", views.funnel_reconcile, name="field-funnel-reconcile"),
    path("gaps/", gap_views.gaps_page, name="field-gaps"),
    path("gaps/layer.json", gap_views.gap_layer, name="field-gap-layer"),
    path("gaps/schools.json", gap_views.gap_schools, name="field-gap-schools"),
    path("reviews/", views.reviews, name="field-reviews"),
    path("audit/", audit_views.audit_log, name="field-audit"),
    path("reviews/<int:pk>/decide/", views.review_decide_view, name="field-review-decide"),
    path("teams/", team_views.teams, name="field-teams"),
    path("teams/<int:pk>/", team_views.team, name="field-team"),
    path("teams/links/<int:pk>/", team_views.case_link, name="field-case-link"),
    path("teams/propose/<str:district_code>/", team_views.team_propose, name="field-team-propose"),
    path("teams/clusters/<str:tambon_code>/", team_views.clusters, name="field-clusters"),
    path("zones/", zone_views.zone_index, name="field-zone-index"),
    path("zones/<str:district_code>/", zone_views.zones_page, name="field-zones"),
    path(
        "zones/<str:district_code>/volunteers/new/",
        zone_views.volunteer_edit,
        name="field-volunteer-new",
    ),
    path(
        "zones/<str:district_code>/volunteers/<int:pk>/",
        zone_views.volunteer_edit,
        name="field-volunteer-edit",
    ),
    path("routes/", route_views.routes, name="field-routes"),
    path("routes/<int:pk>/", route_views.route, name="field-route"),
    path("routes/<int:pk>/print/", route_views.route_print, name="field-route-print"),
    path("routes/<int:pk>.gpx", route_views.route_gpx, name="field-route-gpx"),
    path("my-area/", tablet_views.my_area, name="field-my-area"),
    path("sw.js", tablet_views.service_worker, name="field-sw"),
    path("manifest.webmanifest", tablet_views.manifest, name="field-manifest"),
]

urlpatterns += [
    path("campaigns/", campaign_views.campaigns, name="field-campaigns"),
    path("campaigns/<int:pk>/", campaign_views.campaign, name="field-campaign"),
    path(
        "campaigns/<int:pk>/visits/<int:visit_pk>/done/",
        campaign_views.campaign_visit_done,
        name="field-campaign-visit-done",
    ),
]
