"""Where the low-stock report is served."""


def report_url(company_id: int) -> str:
    return f"/api/companies/{company_id}/alerts/low-stock"
