"""IAM's credential tables (component "iam-credentials"): access key metadata, console
passwords, virtual MFA devices and credential reports.

Secrets of access keys live in the one credentials table (gureum/auth/credentials.py);
these tables hold what IAM reports about them. `user_name` is '' for an account root.
Last use is kept per key id, since the root keys an account starts with are not IAM's.
"""

MIGRATIONS = [
    """
    CREATE TABLE iam_access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        created_at REAL NOT NULL
    );
    CREATE INDEX iam_access_keys_by_user ON iam_access_keys (account_id, user_name);
    CREATE TABLE iam_access_key_last_used (
        access_key_id TEXT PRIMARY KEY,
        used_at REAL NOT NULL,
        service_name TEXT NOT NULL,
        region TEXT NOT NULL
    );
    CREATE TABLE iam_login_profiles (
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        password_changed_at REAL NOT NULL,
        password_last_used REAL,
        reset_required INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, user_name)
    );
    CREATE TABLE iam_password_history (
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        seq INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        PRIMARY KEY (account_id, user_name, seq)
    );
    CREATE TABLE iam_mfa_devices (
        serial_number TEXT PRIMARY KEY COLLATE NOCASE,
        account_id TEXT NOT NULL,
        path TEXT NOT NULL,
        device_name TEXT NOT NULL,
        seed TEXT NOT NULL,
        created_at REAL NOT NULL,
        owner_kind TEXT,
        user_name TEXT COLLATE NOCASE,
        enabled_at REAL,
        last_step INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX iam_mfa_devices_by_user ON iam_mfa_devices (account_id, user_name);
    CREATE TABLE iam_credential_reports (
        account_id TEXT PRIMARY KEY,
        generated_at REAL NOT NULL,
        content BLOB NOT NULL
    )
    """,
]
