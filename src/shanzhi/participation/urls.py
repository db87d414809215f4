from django.urls import path

from . import views

urlpatterns = [
    path("participation/", views.home, name="participation_home"),
    path("participation/rounds/new/", views.round_new, name="participation_round_new"),
    path("participation/rounds/<int:pk>/", views.round_detail, name="participation_round"),
    path("participation/rounds/<int:pk>/step/", views.round_step, name="participation_round_step"),
    path(
        "participation/rounds/<int:pk>/proposals/",
        views.round_proposal,
        name="participation_round_proposal",
    ),
    path(
        "participation/rounds/<int:pk>/proposals/<int:proposal>/decide/",
        views.proposal_decide,
        name="participation_proposal_decide",
    ),
    path("participation/rounds/<int:pk>/voters/", views.round_voter, name="participation_voter"),
    path(
        "participation/rounds/<int:pk>/voters/links/",
        views.round_voter_links,
        name="participation_voter_links",
    ),
    path("participation/rounds/<int:pk>/paper/", views.round_paper, name="participation_paper"),
    path("participation/rounds/<int:pk>/tally/", views.round_tally, name="participation_tally"),
    path(
        "participation/rounds/<int:pk>/tally/live/",
        views.round_tally_fragment,
        name="participation_tally_live",
    ),
    path("participation/projects/<int:pk>/", views.project_detail, name="participation_project"),
    path(
        "participation/projects/<int:pk>/<str:part>/",
        views.project_part,
        name="participation_project_part",
    ),
    path("participation/volunteering/", views.volunteering, name="participation_volunteering"),
    path(
        "participation/volunteering/<str:what>/",
        views.volunteering_act,
        name="participation_volunteering_act",
    ),
    path(
        "participation/activities/<int:pk>/", views.activity_detail, name="participation_activity"
    ),
    # Phone pages, no account: the place from a QR code, the person from their own link.
    path("p/<str:code>/propose/", views.public_propose, name="participation_public_propose"),
    path("p/<str:code>/progress/", views.public_progress, name="participation_public_progress"),
    path("p/<str:code>/<str:page>.svg", views.public_qr, name="participation_public_qr"),
    path("p/t/<str:token>/", views.public_proposal, name="participation_public_proposal"),
    path("p/vote/<str:token>/", views.public_vote, name="participation_public_vote"),
    path("p/v/<str:token>/", views.public_volunteer, name="participation_public_volunteer"),
    path("p/photos/<int:pk>/", views.public_photo, name="participation_public_photo"),
]
