/** The Settings page (admins only): approved destinations, secret bindings, preview masking, recent changes. One procedure per file in ./settings/. */
import { router } from "../init";
import { addDestination } from "./settings/add-destination";
import { approveBlockedDestination } from "./settings/approve-blocked-destination";
import { getSettings } from "./settings/get-settings";
import { addOAuthAppProcedure, listOAuthAppsProcedure, removeOAuthAppProcedure, updateOAuthAppProcedure } from "./settings/oauth-apps";
import { removeDestination } from "./settings/remove-destination";
import { allowSecretHere, removeSecretBinding, setSecretBindingApproval } from "./settings/secret-bindings";
import { setPreviewMasking } from "./settings/set-preview-masking";
import { updateDestination } from "./settings/update-destination";

export const settingsRouter = router({
  get: getSettings,
  addDestination,
  updateDestination,
  removeDestination,
  approveBlockedDestination,
  setPreviewMasking,
  oauthApps: listOAuthAppsProcedure,
  addOAuthApp: addOAuthAppProcedure,
  updateOAuthApp: updateOAuthAppProcedure,
  removeOAuthApp: removeOAuthAppProcedure,
  allowSecretHere,
  removeSecretBinding,
  setSecretBindingApproval,
});
