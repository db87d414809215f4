"""民生实事 (livelihood projects voted by the residents' council and tracked) and 志愿服务
(volunteer service with points exchanged for partner units' rewards)."""
