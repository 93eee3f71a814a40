//! Redirect configuration for a company website hosted on another server (the seed's IIS rewrite
//! rule, which readers asked for as Apache `.htaccess`, and nginx and Caddy equivalents). Each
//! sends `/autodiscover/autodiscover.xml`, in any letter case, to the mail host.

/// Web servers Signpost writes snippets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebServer {
    Iis,
    Apache,
    Nginx,
    Caddy,
}

impl WebServer {
    pub fn parse(value: &str) -> Result<Self, crate::ValidationError> {
        match value.to_ascii_lowercase().as_str() {
            "iis" => Ok(Self::Iis),
            "apache" | "htaccess" => Ok(Self::Apache),
            "nginx" => Ok(Self::Nginx),
            "caddy" => Ok(Self::Caddy),
            _ => Err(crate::ValidationError::new(
                "for",
                format!("'{value}' is not one of iis, apache, nginx, caddy"),
            )),
        }
    }
}

const WHY_307: &str =
    "307 keeps Outlook's POST and its body; 301 and 302 let some HTTP stacks turn it into a GET";

/// The snippet for `server`, redirecting to `https://<hostname>/autodiscover/autodiscover.xml`.
pub fn snippet(server: WebServer, domain: &str, hostname: &str) -> String {
    let target = format!("https://{hostname}/autodiscover/autodiscover.xml");
    match server {
        WebServer::Iis => format!(
            r#"<!-- web.config of the website for {domain}: inside <configuration><system.webServer>.
     Needs the IIS URL Rewrite Module 2.x. The rewriteMap is what the manual steps miss.
     {WHY_307}. -->
<rewrite>
  <rewriteMaps>
    <rewriteMap name="SignpostAutodiscover" ignoreCase="true">
      <add key="/autodiscover/autodiscover.xml" value="{target}" />
    </rewriteMap>
  </rewriteMaps>
  <rules>
    <rule name="Autodiscover to {hostname}" stopProcessing="true">
      <match url=".*" />
      <conditions logicalGrouping="MatchAll" trackAllCaptures="false">
        <add input="{{SignpostAutodiscover:{{REQUEST_URI}}}}" pattern="(.+)" />
      </conditions>
      <action type="Redirect" url="{{C:1}}" appendQueryString="false" redirectType="Temporary" />
    </rule>
  </rules>
</rewrite>
"#
        ),
        WebServer::Apache => format!(
            r#"# .htaccess of the website for {domain} (or inside its <VirtualHost>); needs mod_rewrite.
# {WHY_307}.
RewriteEngine On
RewriteCond %{{REQUEST_URI}} ^/autodiscover/autodiscover\.xml$ [NC]
RewriteRule ^ {target} [R=307,L]
"#
        ),
        WebServer::Nginx => format!(
            r#"# nginx: inside the server {{ }} block of the website for {domain}.
# {WHY_307}.
location ~* ^/autodiscover/autodiscover\.xml$ {{
    return 307 {target};
}}
"#
        ),
        WebServer::Caddy => format!(
            r#"# Caddyfile: inside the site block of the website for {domain}.
# {WHY_307}.
@signpost_autodiscover path_regexp ^(?i)/autodiscover/autodiscover\.xml$
redir @signpost_autodiscover {target} 307
"#
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_snippet_names_the_target_and_keeps_post() {
        for server in [
            WebServer::Iis,
            WebServer::Apache,
            WebServer::Nginx,
            WebServer::Caddy,
        ] {
            let text = snippet(server, "example.com", "mail.example.com");
            assert!(
                text.contains("https://mail.example.com/autodiscover/autodiscover.xml"),
                "{text}"
            );
            assert!(text.contains("307") || text.contains("Temporary"), "{text}");
        }
        assert!(snippet(WebServer::Iis, "example.com", "m.example.com").contains("<rewriteMap"));
        assert!(WebServer::parse("lighttpd").is_err());
    }
}
