from django.db import migrations

RECEIVED = """Hi {{ source_first_name }},

Thank you for thinking of us and introducing {{ prospect_name }}{% if prospect_company %} at {{ prospect_company }}{% endif %}. A referral is the best compliment we get, and we know you put your name on the line.

{{ prospect_name }} will get the same care as every one of our customers. Where it stands today: {{ stage }}. I will keep you posted as it moves.

{{ rep_signature }}"""

MEETING = """Hi {{ source_first_name }},

Thank you again for introducing {{ prospect_name }}{% if prospect_company %} at {{ prospect_company }}{% endif %}. We have now met, and it went well.

Where it stands in our process: {{ stage }}. I will let you know how it goes from here.

{{ rep_signature }}"""

WON = """Hi {{ source_first_name }},

You are hearing it from us first: {{ prospect_name }}{% if prospect_company %} at {{ prospect_company }}{% endif %} has decided to work with us.

None of this would have happened without your introduction. Thank you, truly. We will take good care of them.

{{ rep_signature }}"""

LOST = """Hi {{ source_first_name }},

A quick update on {{ prospect_name }}{% if prospect_company %} at {{ prospect_company }}{% endif %}: it was not the right time for them to work with us, and we have closed it for now.

Thank you all the same for the introduction. It meant a lot that you thought of us.

{{ rep_signature }}"""

# moment, enabled, within (minutes), subject, body
MOMENTS = [
    ("received", True, 120, "Thank you for introducing {{ prospect_name }}", RECEIVED),
    ("meeting", True, 240, "An update on {{ prospect_name }}", MEETING),
    ("won", True, 0, "Good news about {{ prospect_name }}", WON),
    ("lost", False, 24 * 60, "An update on {{ prospect_name }}", LOST),
]


def create_moments(apps, schema_editor):
    ThankYouMoment = apps.get_model("referrals", "ThankYouMoment")
    for moment, enabled, within, subject, body in MOMENTS:
        ThankYouMoment.objects.get_or_create(
            moment=moment,
            defaults={
                "enabled": enabled,
                "within_minutes": within,
                "subject": subject,
                "body": body,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_thankyoumoment_touchpoint")]
    operations = [migrations.RunPython(create_moments, migrations.RunPython.noop)]
