//! Users as the snapshot keeps them: each user's strings in one allocation of exactly their
//! size, in a table sorted by address, found through an index of 4-byte positions keyed by the
//! address they point at, so no string is kept twice. (A million users with their own hashes
//! fit in about 200 MB instead of 500, and a lookup touches two or three cache lines.)

use std::hash::BuildHasher;

use crate::model::{ServiceAccess, User, UserRef};

/// One user: address, hash, display name, login name and LegacyDN, one after the other.
#[derive(Debug)]
struct PackedUser {
    text: Box<str>,
    /// Where the address, hash, display name and login name end in `text`.
    ends: [u32; 4],
    has_login: bool,
    has_legacy_dn: bool,
    access: ServiceAccess,
}

impl PackedUser {
    fn pack(user: UserRef<'_>) -> Self {
        let login = user.login_name.unwrap_or_default();
        let legacy = user.legacy_dn.unwrap_or_default();
        let mut text = String::with_capacity(
            user.address.len()
                + user.password_hash.len()
                + user.display_name.len()
                + login.len()
                + legacy.len(),
        );
        let mut ends = [0u32; 4];
        for (i, part) in [user.address, user.password_hash, user.display_name, login]
            .into_iter()
            .enumerate()
        {
            text.push_str(part);
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        text.push_str(legacy);
        Self {
            text: text.into_boxed_str(),
            ends,
            has_login: user.login_name.is_some(),
            has_legacy_dn: user.legacy_dn.is_some(),
            access: user.access,
        }
    }

    fn part(&self, from: usize, to: Option<usize>) -> &str {
        let start = if from == 0 {
            0
        } else {
            self.ends[from - 1] as usize
        };
        let end = to.map_or(self.text.len(), |i| self.ends[i] as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    fn address(&self) -> &str {
        self.part(0, Some(0))
    }

    fn view(&self) -> UserRef<'_> {
        UserRef {
            address: self.address(),
            password_hash: self.part(1, Some(1)),
            display_name: self.part(2, Some(2)),
            login_name: self.has_login.then(|| self.part(3, Some(3))),
            legacy_dn: self.has_legacy_dn.then(|| self.part(4, None)),
            access: self.access,
        }
    }
}

/// Every user, sorted by address, with its index.
#[derive(Default)]
pub struct PackedUsers {
    users: Vec<PackedUser>,
    index: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl std::fmt::Debug for PackedUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedUsers")
            .field("users", &self.users.len())
            .finish()
    }
}

/// Adds users one at a time (as they are read), then sorts once.
#[derive(Debug, Default)]
pub struct PackedUsersBuilder {
    users: Vec<PackedUser>,
}

impl PackedUsersBuilder {
    pub fn with_capacity(users: usize) -> Self {
        Self {
            users: Vec::with_capacity(users),
        }
    }

    pub fn push(&mut self, user: UserRef<'_>) {
        self.users.push(PackedUser::pack(user));
    }

    pub fn build(mut self) -> PackedUsers {
        if !self.users.is_sorted_by(|a, b| a.address() <= b.address()) {
            self.users
                .sort_unstable_by(|a, b| a.address().cmp(b.address()));
        }
        // An address is kept once (a store never holds two; the last one pushed wins).
        self.users.dedup_by(|later, earlier| {
            let same = later.address() == earlier.address();
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        self.users.shrink_to_fit();
        let hasher = std::hash::RandomState::new();
        let mut index = hashbrown::HashTable::with_capacity(self.users.len());
        let users = self.users;
        for (position, user) in (0u32..).zip(users.iter()) {
            index.insert_unique(hasher.hash_one(user.address()), position, |p| {
                hasher.hash_one(users[*p as usize].address())
            });
        }
        PackedUsers {
            users,
            index,
            hasher,
        }
    }
}

impl PackedUsers {
    pub fn from_users(users: &[User]) -> Self {
        let mut builder = PackedUsersBuilder::with_capacity(users.len());
        for user in users {
            builder.push(user.view());
        }
        builder.build()
    }

    /// The position of `address`, if it is a user.
    pub fn position(&self, address: &str) -> Option<u32> {
        self.index
            .find(self.hasher.hash_one(address), |p| {
                self.users
                    .get(*p as usize)
                    .is_some_and(|u| u.address() == address)
            })
            .copied()
    }

    pub fn get(&self, address: &str) -> Option<UserRef<'_>> {
        self.at(self.position(address)?)
    }

    pub fn at(&self, position: u32) -> Option<UserRef<'_>> {
        self.users.get(position as usize).map(PackedUser::view)
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = UserRef<'_>> {
        self.users.iter().map(PackedUser::view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(address: &str, login: Option<&str>, legacy: Option<&str>) -> User {
        User {
            address: address.into(),
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt${address}"),
            display_name: format!("Name of {address}"),
            login_name: login.map(str::to_string),
            legacy_dn: legacy.map(str::to_string),
            access: ServiceAccess {
                pop: false,
                ..ServiceAccess::ALL
            },
        }
    }

    #[test]
    fn each_user_comes_back_whole_and_is_found_by_address() {
        let users = vec![
            user("zed@example.com", None, None),
            user("ann@example.com", Some("ann"), Some("/o=X/cn=ann")),
            user("bob@example.com", Some(""), None),
            user("émile@example.com", None, Some("")),
        ];
        let packed = PackedUsers::from_users(&users);
        assert_eq!(packed.len(), 4);
        for original in &users {
            let found = packed.get(&original.address).expect("found");
            assert_eq!(found, original.view());
            assert_eq!(found.to_user(), *original);
        }
        assert!(packed.get("nobody@example.com").is_none());
        let order: Vec<&str> = packed.iter().map(|u| u.address).collect();
        assert_eq!(
            order,
            [
                "ann@example.com",
                "bob@example.com",
                "zed@example.com",
                "émile@example.com"
            ]
        );
    }
}
