from twincity.core.navigation import navigation_bar, navigation_for


def navigation(request):
    items = navigation_for(request.user, request.path)
    return {"navigation": items, "navigation_bar": navigation_bar(items)}
