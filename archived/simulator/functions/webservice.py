"""core_webservice: `core_webservice_get_site_info` (contract §3.1)."""

from __future__ import annotations

from typing import Any

from archived.simulator.functions.base import Call, ExternalFunction, fixed
from archived.simulator.paramtypes import ALPHANUM, ALPHANUMEXT, BOOL, INT, RAW, TEXT, URL
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value

_FEATURES_41 = [
    ("usecomments", 1),
    ("usetags", 1),
    ("enablenotes", 1),
    ("messaging", 1),
    ("enableblogs", 1),
    ("enablecompletion", 1),
    ("enablebadges", 1),
    ("messagingallusers", 0),
    ("enablecustomreports", 1),
    ("mnet_dispatcher_mode", 0),
]
_FEATURES_45 = [*_FEATURES_41[:9], ("enableglobalsearch", 0), ("mnet_dispatcher_mode", 0), ("enablecompetencies", 1)]


def _params(profile: ReleaseProfile) -> Single:
    return single({"serviceshortnames": multiple(value(ALPHANUMEXT), default=[])})


def _returns(profile: ReleaseProfile) -> Desc:
    keys: dict[str, Desc] = {
        "sitename": value(RAW),
        "username": value(RAW),
        "firstname": value(TEXT),
        "lastname": value(TEXT),
        "fullname": value(TEXT),
        "lang": value(RAW),
        "userid": value(INT),
        "siteurl": value(RAW),
        "userpictureurl": value(URL),
        "functions": multiple(single({"name": value(RAW), "version": value(TEXT)})),
        "downloadfiles": value(INT, opt=True),
        "uploadfiles": value(INT, opt=True),
        "release": value(TEXT, opt=True),
        "version": value(TEXT, opt=True),
        "mobilecssurl": value(URL, opt=True),
        "advancedfeatures": multiple(single({"name": value(ALPHANUMEXT), "value": value(INT)}), opt=True),
        "usercanmanageownfiles": value(BOOL, opt=True),
        "userquota": value(INT, opt=True),
        "usermaxuploadfilesize": value(INT, opt=True),
        "userhomepage": value(INT, opt=True),
    }
    if profile.at_least(4, 2):
        keys["userhomepageurl"] = value(URL, opt=True)
    keys.update(
        {
            "userprivateaccesskey": value(ALPHANUM, opt=True),
            "siteid": value(INT, opt=True),
            "sitecalendartype": value(RAW, opt=True),
            "usercalendartype": value(RAW, opt=True),
            "userissiteadmin": value(BOOL, opt=True),
            "theme": value(RAW, opt=True),
            "limitconcurrentlogins": value(INT, opt=True),
            "usersessionscount": value(INT, opt=True),
        }
    )
    if profile.at_least(4, 2):
        keys["policyagreed"] = value(INT, opt=True)
    return single(keys)


def get_site_info(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Site and token-user information plus the service's functions."""
    world, profile = call.world, call.profile
    user = world.users[call.userid]
    functions = []
    for name in world.service.functions:
        function = call.functions.get(name)
        component = function.component if function else "core"
        version = profile.version if component == "core" else profile.plugin_version
        functions.append({"name": name, "version": version})
    features = _FEATURES_45 if profile.at_least(4, 5) else _FEATURES_41
    return {
        "sitename": world.site_name,
        "username": user.username,
        "firstname": user.firstname,
        "lastname": user.lastname,
        "fullname": user.fullname,
        "lang": "en",
        "userid": user.id,
        "siteurl": call.wwwroot,
        "userpictureurl": call.user_picture("f1"),
        "functions": functions,
        "downloadfiles": int(world.service.downloadfiles),
        "uploadfiles": int(world.service.uploadfiles),
        "release": profile.release,
        "version": profile.version,
        "mobilecssurl": "",
        "advancedfeatures": [{"name": name, "value": flag} for name, flag in features],
        "usercanmanageownfiles": True,
        "userquota": 104857600,
        "usermaxuploadfilesize": 67108864,
        "userhomepage": 1,
        "userprivateaccesskey": world.privateaccesskey,
        "siteid": 1,
        "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian",
        "userissiteadmin": False,
        "theme": "boost",
        "limitconcurrentlogins": 0,
        "policyagreed": 1,
    }


FUNCTIONS = (ExternalFunction("core_webservice_get_site_info", "core", _params, _returns, get_site_info),)

__all__ = ["FUNCTIONS", "fixed"]
