from django.urls import path

from pricing.web import calculator, charts, compare, feeds, models_page, views

app_name = "web"

urlpatterns = [
    path("", views.leaderboard, name="leaderboard"),
    path("calculator/", calculator.calculator, name="calculator"),
    path("compare/", compare.compare, name="compare"),
    path("models/<slug:slug>/", models_page.model_detail, name="model"),
    path("providers/", views.providers_index, name="providers"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider"),
    path("changes/", views.changes, name="changes"),
    path("changes/feed/", feeds.PriceChangesFeed(), name="changes-feed"),
    path("methodology/", views.methodology, name="methodology"),
    path("charts.css", charts.chart_stylesheet, name="chart-stylesheet"),
]
