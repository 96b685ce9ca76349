"""The fake Twilio account, clinic number and patient of the SMS unit tests."""

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "unit-test-auth-token"
CLINIC_NUMBER = "+15555550100"
PATIENT = "+15555550123"
