import { DASHBOARD_PATH } from './dashboard-links.js';
import { html, type SafeHtml } from './html.js';

export function renderLogin(next: string, error?: string): SafeHtml {
  return html`
${error ? html`<p class="error" id="login-error">${error}</p>` : ''}
<form method="post" action="${DASHBOARD_PATH}/login" class="login">
<input type="hidden" name="next" value="${next}">
<label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
<p>Use a token of the bot's HTTP API (QF_API_TOKENS_FILE) with the <code>read</code> scope.</p>`;
}
