//! API tokens over GraphQL: the `tokens` list and the `createToken` / `revokeToken` mutations
//! (admins; the list for auditors too). The same store as `taizhang tokens` (crates/auth).

use async_graphql::{Context, Enum, ID, InputObject, SimpleObject};
use auth::{NewToken, Role, TokenInfo, TokenStatus};

use super::State;
use super::scalars::DateTime;
use crate::error::{ApiError, ApiResult};

/// A token's role (令牌角色); docs/security.md has what each may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenRole {
    /// Units, targets, rule settings, tokens. 系统管理员
    Admin,
    /// Supervision items and accountability; reads everything. 督查
    Supervisor,
    /// Project commands for the units in its scope. 填报员
    Editor,
    /// Reads everything. 只读用户
    Viewer,
    /// Reads everything, the raw events feed, ledger verification, the token list. 审计
    Auditor,
}

impl From<TokenRole> for Role {
    fn from(r: TokenRole) -> Role {
        match r {
            TokenRole::Admin => Role::Admin,
            TokenRole::Supervisor => Role::Supervisor,
            TokenRole::Editor => Role::Editor,
            TokenRole::Viewer => Role::Viewer,
            TokenRole::Auditor => Role::Auditor,
        }
    }
}

impl From<Role> for TokenRole {
    fn from(r: Role) -> TokenRole {
        match r {
            Role::Admin => TokenRole::Admin,
            Role::Supervisor => TokenRole::Supervisor,
            Role::Editor => TokenRole::Editor,
            Role::Viewer => TokenRole::Viewer,
            Role::Auditor => TokenRole::Auditor,
        }
    }
}

/// Whether a token would be accepted now (令牌状态).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// Accepted. 有效
    Active,
    /// Past its expiry. 已过期
    Expired,
    /// Revoked. 已吊销
    Revoked,
}

/// An API token as recorded: never its secret (访问令牌).
#[derive(SimpleObject, Debug, Clone)]
pub struct ApiToken {
    /// The token's id, as in the actor of every event its holder causes. 令牌编号
    pub token_id: ID,
    /// Who holds it. 持有人
    pub name: String,
    /// Its role. 角色
    pub role: TokenRole,
    /// The units an editor acts for (empty for other roles). 责任单位范围
    pub units: Vec<String>,
    /// Accepted now, expired or revoked. 状态
    pub status: TokenState,
    /// When it stops being accepted. 到期时间
    pub expires_at: DateTime,
    /// When it was made. 创建时间
    pub created_at: DateTime,
    /// Who made it (an actor). 创建人
    pub created_by: String,
    /// When it was revoked, if it was. 吊销时间
    pub revoked_at: Option<DateTime>,
    /// Who revoked it. 吊销人
    pub revoked_by: Option<String>,
}

impl From<TokenInfo> for ApiToken {
    fn from(t: TokenInfo) -> ApiToken {
        let status = match t.status(time::OffsetDateTime::now_utc()) {
            TokenStatus::Active => TokenState::Active,
            TokenStatus::Expired => TokenState::Expired,
            TokenStatus::Revoked => TokenState::Revoked,
        };
        ApiToken {
            token_id: ID(t.token_id.to_string()),
            name: t.name,
            role: t.role.into(),
            units: t.units.iter().map(|u| u.as_str().to_owned()).collect(),
            status,
            expires_at: DateTime::of(t.expires_at),
            created_at: DateTime::of(t.created_at),
            created_by: t.created_by,
            revoked_at: t.revoked_at.map(DateTime::of),
            revoked_by: t.revoked_by,
        }
    }
}

/// A token to make (新建访问令牌).
#[derive(InputObject, Debug, Clone)]
pub struct CreateTokenInput {
    /// Who will hold it, e.g. `城关镇 张三` (1 to 100 characters). 持有人
    pub name: String,
    /// Its role. 角色
    pub role: TokenRole,
    /// For editors (and only for them): the units it acts for, at least one. 责任单位范围
    #[graphql(default)]
    pub units: Vec<String>,
    /// Lifetime such as `90d`, `12h`, `2w` (at most 5 years); 90 days when absent. 有效期
    pub expires_in: Option<String>,
}

/// A token just made: the only time its secret is shown (新建令牌).
#[derive(SimpleObject, Debug)]
pub struct CreateTokenPayload {
    /// The secret, to send as `Authorization: Bearer …`. Shown once, stored only as a hash:
    /// keep it safe. 令牌（仅显示一次）
    pub secret: String,
    /// The token's record. 令牌信息
    pub token: ApiToken,
}

/// A token to revoke (吊销令牌).
#[derive(InputObject, Debug, Clone)]
pub struct RevokeTokenInput {
    /// The token's id (`tokenId`). 令牌编号
    pub token_id: ID,
}

pub async fn create(ctx: &Context<'_>, input: CreateTokenInput) -> ApiResult<CreateTokenPayload> {
    let state = ctx
        .data::<State>()
        .map_err(|e| ApiError::internal(e.message))?;
    let actor = crate::access::identity(ctx)?.actor();
    let mut units = Vec::with_capacity(input.units.len());
    for unit in &input.units {
        let id = super::inputs::unit_id("units", unit)?;
        // Scopes name units that exist: a typo would make a token that can do nothing.
        super::mutation::require_unit(state, "units", id.as_str()).await?;
        units.push(id);
    }
    let lifetime = match input.expires_in.as_deref() {
        Some(text) => auth::parse_lifetime(text)?,
        None => auth::token::DEFAULT_LIFETIME,
    };
    let created = state
        .gate
        .tokens()
        .create(
            NewToken {
                name: input.name,
                role: input.role.into(),
                units,
                lifetime,
            },
            &actor,
        )
        .await?;
    Ok(CreateTokenPayload {
        secret: created.secret.expose().to_owned(),
        token: created.info.into(),
    })
}

pub async fn revoke(ctx: &Context<'_>, input: RevokeTokenInput) -> ApiResult<ApiToken> {
    let state = ctx
        .data::<State>()
        .map_err(|e| ApiError::internal(e.message))?;
    let actor = crate::access::identity(ctx)?.actor();
    let id = uuid::Uuid::parse_str(input.token_id.trim()).map_err(|_| {
        ApiError::validation(
            "tokenId",
            "tokenId must be a token's id (a UUID)",
            "tokenId 须为令牌编号（UUID）",
        )
    })?;
    Ok(state.gate.tokens().revoke(id, &actor).await?.into())
}
