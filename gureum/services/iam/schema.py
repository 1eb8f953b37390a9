"""IAM's tables (component "iam"): users, groups, roles, policies, attachments, account.

Names are unique case-insensitively within an account and keep the case they were created
with (COLLATE NOCASE). Entities are referred to by (account_id, kind, name) where one
table serves users, groups and roles alike; renames rewrite those rows in one transaction.
An account's alias row overrides the alias it was created with (`gureum accounts create
--alias`); a NULL alias records that it was deleted.
"""

MIGRATIONS = [
    """
    CREATE TABLE iam_users (
        account_id TEXT NOT NULL,
        user_name TEXT NOT NULL COLLATE NOCASE,
        user_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        permissions_boundary TEXT,
        PRIMARY KEY (account_id, user_name)
    );
    CREATE TABLE iam_groups (
        account_id TEXT NOT NULL,
        group_name TEXT NOT NULL COLLATE NOCASE,
        group_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (account_id, group_name)
    );
    CREATE TABLE iam_group_members (
        account_id TEXT NOT NULL,
        group_name TEXT NOT NULL COLLATE NOCASE,
        user_name TEXT NOT NULL COLLATE NOCASE,
        added_at REAL NOT NULL,
        PRIMARY KEY (account_id, group_name, user_name)
    );
    CREATE INDEX iam_group_members_by_user ON iam_group_members (account_id, user_name);
    CREATE TABLE iam_roles (
        account_id TEXT NOT NULL,
        role_name TEXT NOT NULL COLLATE NOCASE,
        role_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        assume_role_policy TEXT NOT NULL,
        description TEXT,
        max_session_duration INTEGER NOT NULL DEFAULT 3600,
        permissions_boundary TEXT,
        last_used_at REAL,
        last_used_region TEXT,
        PRIMARY KEY (account_id, role_name)
    );
    CREATE INDEX iam_roles_by_arn ON iam_roles (arn);
    CREATE TABLE iam_policies (
        account_id TEXT NOT NULL,
        policy_name TEXT NOT NULL COLLATE NOCASE,
        policy_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        description TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        default_version TEXT NOT NULL,
        next_version INTEGER NOT NULL,
        PRIMARY KEY (account_id, policy_name)
    );
    CREATE TABLE iam_policy_versions (
        policy_arn TEXT NOT NULL,
        version_id TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (policy_arn, version_id)
    );
    CREATE TABLE iam_attachments (
        account_id TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_name TEXT NOT NULL COLLATE NOCASE,
        policy_arn TEXT NOT NULL,
        attached_at REAL NOT NULL,
        PRIMARY KEY (account_id, entity_kind, entity_name, policy_arn)
    );
    CREATE INDEX iam_attachments_by_policy ON iam_attachments (account_id, policy_arn);
    CREATE TABLE iam_inline_policies (
        account_id TEXT NOT NULL,
        entity_kind TEXT NOT NULL,
        entity_name TEXT NOT NULL COLLATE NOCASE,
        policy_name TEXT NOT NULL COLLATE NOCASE,
        document TEXT NOT NULL,
        PRIMARY KEY (account_id, entity_kind, entity_name, policy_name)
    );
    CREATE TABLE iam_tags (
        account_id TEXT NOT NULL,
        resource_kind TEXT NOT NULL,
        resource_name TEXT NOT NULL COLLATE NOCASE,
        tag_key TEXT NOT NULL COLLATE NOCASE,
        tag_value TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (account_id, resource_kind, resource_name, tag_key)
    );
    CREATE TABLE iam_instance_profiles (
        account_id TEXT NOT NULL,
        profile_name TEXT NOT NULL COLLATE NOCASE,
        profile_id TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (account_id, profile_name)
    );
    CREATE TABLE iam_instance_profile_roles (
        account_id TEXT NOT NULL,
        profile_name TEXT NOT NULL COLLATE NOCASE,
        role_name TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (account_id, profile_name)
    );
    CREATE INDEX iam_instance_profile_roles_by_role ON iam_instance_profile_roles (account_id, role_name);
    CREATE TABLE iam_account_aliases (
        account_id TEXT PRIMARY KEY,
        alias TEXT UNIQUE
    );
    CREATE TABLE iam_password_policies (
        account_id TEXT PRIMARY KEY,
        policy TEXT NOT NULL
    )
    """,
]
