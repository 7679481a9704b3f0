"""Dependencies the routes share, declared once as typed aliases so route signatures read as plain types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.news.feed import NewsFeed


def get_news(request: Request) -> NewsFeed:
    news: NewsFeed = request.app.state.news
    return news


NewsDep = Annotated[NewsFeed, Depends(get_news)]
