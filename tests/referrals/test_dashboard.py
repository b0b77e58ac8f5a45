from tests.factories import ReferralFactory


def test_dashboard_shows_pipeline_value_per_stage(client, carol, alice_partner):
    ReferralFactory.create_batch(3, source=alice_partner, estimated_value=1000)
    client.force_login(carol)
    response = client.get("/dashboard/")
    received = next(
        r for r in response.context["summary"] if r["stage"].name == "Received"
    )
    assert received["count"] == 3
    assert received["total"] == 3000
    assert received["weighted"] == 300  # Received is 10% likely to win
    assert response.context["forecast"] == 300
