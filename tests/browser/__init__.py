from playwright.sync_api import expect


def log_in(page, base_url, email, password="secret-pass-123"):
    """Log in through the login page, as a person would; lands on Today."""
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Today")).to_be_visible()
